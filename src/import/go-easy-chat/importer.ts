import type { InsertObject, Kysely } from 'kysely';
import { insertedRows, skipExisting } from '../../adapters/storage/portable.js';
import type { Database } from '../../adapters/storage/schema.js';
import { ConversationRepository } from '../../modules/im/conversation.repository.js';
import { AddSource, JoinSource, RoleLevel } from '../../modules/social/social.entity.js';
import { GO_TABLES, type GoSource, type GoTable, type GoTables } from './go-source.js';
import {
  mapFriend,
  mapFriendRequest,
  mapGroup,
  mapGroupMember,
  mapGroupRequest,
  mapUser,
  newImportState,
  type ImportState,
  type Mapped,
} from './mapping.js';

type Db = Kysely<Database>;

/** What happened to the rows of one Go table. */
export interface TableSummary {
  read: number;
  /** Written now. */
  imported: number;
  /** Already in easy-chat (an earlier run, or a run that was interrupted). */
  present: number;
  /** Not imported, by reason. */
  skipped: Record<string, number>;
  /** Imported with a change, or an extra row written, by what happened. */
  notes: Record<string, number>;
  /** A few Go ids per skip reason, to look them up. */
  examples: Record<string, string[]>;
}

export type ImportSummary = Record<GoTable, TableSummary>;

export interface ImportProgress {
  table(table: GoTable, total: number): void;
  advance(rows: number): void;
  done(): void;
}

export interface ImportOptions {
  /** Rows read and written per statement (default 500). */
  batchSize?: number;
  progress?: ImportProgress;
  /** Stops between batches; what was written stays, and a new run continues from there. */
  signal?: AbortSignal;
  clock?: () => number;
}

const EXAMPLES_PER_REASON = 5;

/**
 * Copies a Go easy-chat database into easy-chat's storage (any engine).
 *
 * Idempotent and resumable without bookkeeping: every row keeps a key derived
 * from the Go one and is written "insert unless present", one batch per
 * statement, so a second run (or a run after an interruption) finds what is
 * there, counts it as present, and writes only what is missing. Bad rows of the
 * Go data (duplicate friendships, requests nobody could handle, references to
 * rows that do not exist) are skipped and counted with the reason.
 *
 * No domain events are recorded: the import is history, not news (nobody is
 * notified of a friendship from last year).
 */
export async function importGoEasyChat(
  source: GoSource,
  db: Db,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? 500;
  const now = (options.clock ?? Date.now)();
  const state = newImportState();
  const summary = Object.fromEntries(
    GO_TABLES.map((t) => [t, emptySummary()]),
  ) as unknown as ImportSummary;

  for (const table of GO_TABLES) {
    options.progress?.table(table, await source.count(table));
    const spec = SPECS[table] as unknown as TableSpec<GoTables[typeof table], object>;
    for await (const page of source.pages(table, batchSize)) {
      options.signal?.throwIfAborted();
      await importPage(db, page, spec, state, now, summary[table]);
      options.progress?.advance(page.length);
    }
    if (table === 'friends')
      await makeFriendshipsMutual(db, state, now, summary.friends, batchSize);
    if (table === 'group_members') {
      await addMissingCreators(db, state, now, summary.group_members, batchSize);
      await countMembers(db, [...state.groups.keys()], batchSize);
      await joinGroupConversations(db, [...state.groups.keys()], now, batchSize);
    }
    options.progress?.done();
  }
  return summary;
}

function emptySummary(): TableSummary {
  return { read: 0, imported: 0, present: 0, skipped: {}, notes: {}, examples: {} };
}

function count(into: Record<string, number>, reason: string, n = 1): void {
  into[reason] = (into[reason] ?? 0) + n;
}

interface TableSpec<Go, Row> {
  map(go: Go, state: ImportState, now: number): Mapped<Row>;
  /** The Go id shown in examples. */
  goId(go: Go): string;
  /** The row's key in easy-chat. */
  key(row: Row): string;
  /** Keys among `rows` that easy-chat already has. */
  present(db: Db, rows: Row[]): Promise<Set<string>>;
  /** Inserts, skipping rows whose key (or another unique rule) exists; rows written. */
  insert(db: Db, rows: Row[]): Promise<number>;
  /** Why a row that was absent could still not be written (another unique rule). */
  conflict: string;
  /** Remembers a row that is in easy-chat (written now or before). */
  remember?(row: Row, state: ImportState): void;
}

async function importPage<Go, Row>(
  db: Db,
  page: Go[],
  spec: TableSpec<Go, Row>,
  state: ImportState,
  now: number,
  summary: TableSummary,
): Promise<void> {
  summary.read += page.length;
  const rows: Row[] = [];
  for (const go of page) {
    const mapped = spec.map(go, state, now);
    if ('skip' in mapped) {
      count(summary.skipped, mapped.skip);
      const examples = (summary.examples[mapped.skip] ??= []);
      if (examples.length < EXAMPLES_PER_REASON) examples.push(spec.goId(go));
      continue;
    }
    if (mapped.note) count(summary.notes, mapped.note);
    rows.push(mapped.row);
  }
  if (rows.length === 0) return;
  const before = await spec.present(db, rows);
  const absent = rows.filter((row) => !before.has(spec.key(row)));
  summary.present += rows.length - absent.length;
  const written = absent.length > 0 ? await spec.insert(db, absent) : 0;
  summary.imported += written;
  let missing = new Set<string>();
  if (written < absent.length) {
    // Some rows hit another unique rule (a phone taken by an easy-chat account, a
    // pending request already there): find which, and report them as skipped.
    const after = await spec.present(db, absent);
    missing = new Set(absent.map((row) => spec.key(row)).filter((key) => !after.has(key)));
    count(summary.skipped, spec.conflict, missing.size);
    const examples = (summary.examples[spec.conflict] ??= []);
    for (const key of missing) if (examples.length < EXAMPLES_PER_REASON) examples.push(key);
  }
  for (const row of rows) if (!missing.has(spec.key(row))) spec.remember?.(row, state);
}

/** Which of `rows` easy-chat already has, for a table keyed by its `id`. */
async function presentIds(
  db: Db,
  table: 'users' | 'groups' | 'friendRequests' | 'groupRequests',
  rows: readonly { id: string }[],
): Promise<Set<string>> {
  const ids = rows.map((r) => r.id);
  const found = await db.selectFrom(table).select('id').where('id', 'in', ids).execute();
  return new Set(found.map((r) => r.id));
}

/** The columns of table `T` that hold strings. */
type StringColumn<T extends keyof Database> = {
  [C in keyof Database[T]]: Database[T][C] extends string ? C : never;
}[keyof Database[T]] &
  string;

/**
 * Which of `rows` easy-chat already has, for a table keyed by two string columns `a`
 * and `b`: one SELECT of `(a = ? and b = ?) or …` for the batch, answered as "a b"
 * keys (the form of the specs' `key`).
 */
async function presentPairs<
  T extends keyof Database,
  A extends StringColumn<T>,
  B extends StringColumn<T>,
>(
  db: Db,
  table: T,
  [a, b]: readonly [A, B],
  rows: readonly Record<A | B, string>[],
): Promise<Set<string>> {
  // Kysely types a query from literal table and column names; it cannot follow them as
  // type parameters. The signature has checked them against Database (a table and two of
  // its string columns), so the query is written with them as plain strings, against the
  // table seen as string columns: the one cast here, and it changes no SQL.
  const strings = db as unknown as Kysely<Record<string, Record<string, string>>>;
  const [from, first, second]: [string, string, string] = [table, a, b];
  const found = await strings
    .selectFrom(from)
    .select([first, second])
    .where((eb) => eb.or(rows.map((r) => eb.and([eb(first, '=', r[a]), eb(second, '=', r[b])]))))
    .execute();
  return new Set(found.map((r) => `${r[first]} ${r[second]}`));
}

/**
 * A list of columns that names every key of `Row`: one that leaves a key out fails to
 * type-check and says which (so a column a mapping gains cannot be forgotten here).
 */
type EveryColumn<Row, C extends keyof Row> = readonly C[] &
  ([Exclude<keyof Row, C>] extends [never] ? unknown : { missing: Exclude<keyof Row, C> });

/**
 * Inserts `rows` into `table`, skipping those whose key (or another unique rule) exists;
 * rows written. What goes to values() is a copy of each row's named `columns`, never the
 * row itself, so no other key a row carries at run time can reach SQL: the property the
 * mass-assignment rule of eslint.config.js asks of every values(), kept here by name.
 */
async function insertColumns<
  T extends keyof Database,
  Row extends InsertObject<Database, T>,
  C extends keyof Row & keyof InsertObject<Database, T>,
>(db: Db, table: T, rows: readonly Row[], columns: EveryColumn<Row, C>): Promise<number> {
  return insertedRows(
    await db
      .insertInto(table)
      .values(rows.map((row) => copyColumns(row, columns)))
      .$call((i) => skipExisting(db, i))
      .executeTakeFirst(),
  );
}

/** A new object with `row`'s `columns`, in their order (the INSERT's column order). */
function copyColumns<Row, C extends keyof Row>(row: Row, columns: EveryColumn<Row, C>): Row {
  // Starts empty and gets every key of Row below (`columns` names them all), so it is a
  // whole Row by the end; TypeScript cannot follow a loop filling an object.
  const copy = {} as Row;
  for (const column of columns) copy[column] = row[column];
  return copy;
}

const SPECS: { [T in GoTable]: TableSpec<GoTables[T], never> | TableSpec<GoTables[T], object> } = {
  users: {
    map: mapUser,
    goId: (go) => go.id,
    key: (row) => row.id,
    present: (db, rows) => presentIds(db, 'users', rows),
    insert: (db, rows) =>
      insertColumns(db, 'users', rows, [
        'id',
        'phone',
        'nickname',
        'passwordHash',
        'sex',
        'avatar',
        'status',
        'createdAt',
        'updatedAt',
      ]),
    conflict: 'phone already used by an easy-chat account',
    remember: (row, state) => state.users.add(row.id),
  } satisfies TableSpec<GoTables['users'], Database['users']>,
  friends: {
    map: mapFriend,
    goId: (go) => String(go.id),
    key: (row) => `${row.userId} ${row.friendUid}`,
    present: (db, rows) => presentPairs(db, 'friends', ['userId', 'friendUid'], rows),
    insert: (db, rows) =>
      insertColumns(db, 'friends', rows, [
        'userId',
        'friendUid',
        'remark',
        'addSource',
        'createdAt',
      ]),
    conflict: 'friendship already there',
  } satisfies TableSpec<GoTables['friends'], Database['friends']>,
  friend_requests: {
    map: mapFriendRequest,
    goId: (go) => String(go.id),
    key: (row) => row.id,
    present: (db, rows) => presentIds(db, 'friendRequests', rows),
    insert: (db, rows) =>
      insertColumns(db, 'friendRequests', rows, [
        'id',
        'userId',
        'reqUid',
        'pairKey',
        'reqMsg',
        'reqTime',
        'handleResult',
        'handledAt',
      ]),
    conflict: 'a pending request between the same users is already in easy-chat',
  } satisfies TableSpec<GoTables['friend_requests'], Database['friendRequests']>,
  groups: {
    map: mapGroup,
    goId: (go) => go.id,
    key: (row) => row.id,
    present: (db, rows) => presentIds(db, 'groups', rows),
    insert: (db, rows) =>
      insertColumns(db, 'groups', rows, [
        'id',
        'name',
        'icon',
        'status',
        'creatorUid',
        'groupType',
        'isVerify',
        'notification',
        'notificationUid',
        'memberCount',
        'createdAt',
        'updatedAt',
      ]),
    conflict: 'group already there',
  } satisfies TableSpec<GoTables['groups'], Omit<Database['groups'], 'muted'>>,
  group_members: {
    map: mapGroupMember,
    goId: (go) => String(go.id),
    key: (row) => `${row.groupId} ${row.userId}`,
    present: (db, rows) => presentPairs(db, 'groupMembers', ['groupId', 'userId'], rows),
    insert: (db, rows) =>
      insertColumns(db, 'groupMembers', rows, [
        'groupId',
        'userId',
        'roleLevel',
        'joinTime',
        'joinSource',
        'inviterUid',
        'operatorUid',
      ]),
    conflict: 'the group already has another creator in easy-chat',
  } satisfies TableSpec<GoTables['group_members'], Omit<Database['groupMembers'], 'mutedUntil'>>,
  group_requests: {
    map: mapGroupRequest,
    goId: (go) => String(go.id),
    key: (row) => row.id,
    present: (db, rows) => presentIds(db, 'groupRequests', rows),
    insert: (db, rows) =>
      insertColumns(db, 'groupRequests', rows, [
        'id',
        'groupId',
        'reqId',
        'reqMsg',
        'reqTime',
        'joinSource',
        'inviterUid',
        'handleUid',
        'handleResult',
        'handledAt',
      ]),
    conflict: 'a pending request of the same user is already in easy-chat',
  } satisfies TableSpec<GoTables['group_requests'], Database['groupRequests']>,
};

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * easy-chat keeps a friendship as two rows (one per direction), as the Go system
 * meant to; a Go friendship found in one direction only gets the other one.
 */
async function makeFriendshipsMutual(
  db: Db,
  state: ImportState,
  now: number,
  summary: TableSummary,
  batchSize: number,
): Promise<void> {
  const oneWay = [...state.friendPairs]
    .map((pair) => pair.split(' ') as [string, string])
    .filter(([a, b]) => !state.friendPairs.has(`${b} ${a}`));
  for (const batch of chunks(oneWay, batchSize)) {
    const result = await db
      .insertInto('friends')
      .values(
        batch.map(([a, b]) => ({
          userId: b,
          friendUid: a,
          remark: '',
          addSource: AddSource.request,
          createdAt: now,
        })),
      )
      .$call((i) => skipExisting(db, i))
      .executeTakeFirst();
    const written = insertedRows(result);
    if (written > 0) count(summary.notes, 'one-way friendship made mutual', written);
  }
}

/** Every group has its creator among its members (the Go data may lack the row). */
async function addMissingCreators(
  db: Db,
  state: ImportState,
  now: number,
  summary: TableSummary,
  batchSize: number,
): Promise<void> {
  const lacking = [...state.groups].filter(
    ([group, creator]) => !state.members.has(`${group} ${creator}`),
  );
  for (const batch of chunks(lacking, batchSize)) {
    const result = await db
      .insertInto('groupMembers')
      .values(
        batch.map(([groupId, userId]) => ({
          groupId,
          userId,
          roleLevel: RoleLevel.creator,
          joinTime: now,
          joinSource: JoinSource.founded,
          inviterUid: null,
          operatorUid: null,
        })),
      )
      .$call((i) => skipExisting(db, i))
      .executeTakeFirst();
    const written = insertedRows(result);
    if (written > 0) count(summary.notes, 'creator membership added', written);
  }
}

/** groups.member_count from the members now in easy-chat. */
async function countMembers(db: Db, groupIds: string[], batchSize: number): Promise<void> {
  for (const batch of chunks(groupIds, batchSize)) {
    await db
      .updateTable('groups')
      .set((eb) => ({
        memberCount: eb
          .selectFrom('groupMembers')
          .select((sub) => sub.fn.countAll<number>().as('n'))
          .whereRef('groupMembers.groupId', '=', 'groups.id'),
      }))
      .where('id', 'in', batch)
      .execute();
  }
}

/**
 * Group members read a group's messages through their place in its conversation,
 * which joining a group makes; the imported members get theirs here (those who
 * have one keep it).
 */
async function joinGroupConversations(
  db: Db,
  groupIds: string[],
  now: number,
  batchSize: number,
): Promise<void> {
  const conversations = new ConversationRepository(db);
  for (const groupId of groupIds) {
    await db.transaction().execute(async (trx) => {
      const members = await trx
        .selectFrom('groupMembers')
        .select('userId')
        .where('groupId', '=', groupId)
        .execute();
      await conversations.joinGroup(
        trx,
        groupId,
        members.map((m) => m.userId),
        now,
        batchSize,
      );
    });
  }
}
