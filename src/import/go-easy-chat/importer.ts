import type { Kysely } from 'kysely';
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

const byId = async (
  db: Db,
  table: 'users' | 'groups' | 'friendRequests' | 'groupRequests',
  ids: string[],
) =>
  new Set(
    (await db.selectFrom(table).select('id').where('id', 'in', ids).execute()).map((r) => r.id),
  );

const SPECS: { [T in GoTable]: TableSpec<GoTables[T], never> | TableSpec<GoTables[T], object> } = {
  users: {
    map: mapUser,
    goId: (go) => go.id,
    key: (row) => row.id,
    present: (db, rows) =>
      byId(
        db,
        'users',
        rows.map((r) => r.id),
      ),
    insert: async (db, rows) =>
      insertedRows(
        await db
          .insertInto('users')
          .values(
            rows.map((r) => ({
              id: r.id,
              phone: r.phone,
              nickname: r.nickname,
              passwordHash: r.passwordHash,
              sex: r.sex,
              avatar: r.avatar,
              status: r.status,
              createdAt: r.createdAt,
              updatedAt: r.updatedAt,
            })),
          )
          .$call((i) => skipExisting(db, i))
          .executeTakeFirst(),
      ),
    conflict: 'phone already used by an easy-chat account',
    remember: (row, state) => state.users.add(row.id),
  } satisfies TableSpec<GoTables['users'], Database['users']>,
  friends: {
    map: mapFriend,
    goId: (go) => String(go.id),
    key: (row) => `${row.userId} ${row.friendUid}`,
    present: async (db, rows) =>
      new Set(
        (
          await db
            .selectFrom('friends')
            .select(['userId', 'friendUid'])
            .where((eb) =>
              eb.or(
                rows.map((r) =>
                  eb.and([eb('userId', '=', r.userId), eb('friendUid', '=', r.friendUid)]),
                ),
              ),
            )
            .execute()
        ).map((r) => `${r.userId} ${r.friendUid}`),
      ),
    insert: async (db, rows) =>
      insertedRows(
        await db
          .insertInto('friends')
          .values(
            rows.map((r) => ({
              userId: r.userId,
              friendUid: r.friendUid,
              remark: r.remark,
              addSource: r.addSource,
              createdAt: r.createdAt,
            })),
          )
          .$call((i) => skipExisting(db, i))
          .executeTakeFirst(),
      ),
    conflict: 'friendship already there',
  } satisfies TableSpec<GoTables['friends'], Database['friends']>,
  friend_requests: {
    map: mapFriendRequest,
    goId: (go) => String(go.id),
    key: (row) => row.id,
    present: (db, rows) =>
      byId(
        db,
        'friendRequests',
        rows.map((r) => r.id),
      ),
    insert: async (db, rows) =>
      insertedRows(
        await db
          .insertInto('friendRequests')
          .values(
            rows.map((r) => ({
              id: r.id,
              userId: r.userId,
              reqUid: r.reqUid,
              pairKey: r.pairKey,
              reqMsg: r.reqMsg,
              reqTime: r.reqTime,
              handleResult: r.handleResult,
              handledAt: r.handledAt,
            })),
          )
          .$call((i) => skipExisting(db, i))
          .executeTakeFirst(),
      ),
    conflict: 'a pending request between the same users is already in easy-chat',
  } satisfies TableSpec<GoTables['friend_requests'], Database['friendRequests']>,
  groups: {
    map: mapGroup,
    goId: (go) => go.id,
    key: (row) => row.id,
    present: (db, rows) =>
      byId(
        db,
        'groups',
        rows.map((r) => r.id),
      ),
    insert: async (db, rows) =>
      insertedRows(
        await db
          .insertInto('groups')
          .values(
            rows.map((r) => ({
              id: r.id,
              name: r.name,
              icon: r.icon,
              status: r.status,
              creatorUid: r.creatorUid,
              groupType: r.groupType,
              isVerify: r.isVerify,
              notification: r.notification,
              notificationUid: r.notificationUid,
              memberCount: r.memberCount,
              createdAt: r.createdAt,
              updatedAt: r.updatedAt,
            })),
          )
          .$call((i) => skipExisting(db, i))
          .executeTakeFirst(),
      ),
    conflict: 'group already there',
  } satisfies TableSpec<GoTables['groups'], Omit<Database['groups'], 'muted'>>,
  group_members: {
    map: mapGroupMember,
    goId: (go) => String(go.id),
    key: (row) => `${row.groupId} ${row.userId}`,
    present: async (db, rows) =>
      new Set(
        (
          await db
            .selectFrom('groupMembers')
            .select(['groupId', 'userId'])
            .where((eb) =>
              eb.or(
                rows.map((r) =>
                  eb.and([eb('groupId', '=', r.groupId), eb('userId', '=', r.userId)]),
                ),
              ),
            )
            .execute()
        ).map((r) => `${r.groupId} ${r.userId}`),
      ),
    insert: async (db, rows) =>
      insertedRows(
        await db
          .insertInto('groupMembers')
          .values(
            rows.map((r) => ({
              groupId: r.groupId,
              userId: r.userId,
              roleLevel: r.roleLevel,
              joinTime: r.joinTime,
              joinSource: r.joinSource,
              inviterUid: r.inviterUid,
              operatorUid: r.operatorUid,
            })),
          )
          .$call((i) => skipExisting(db, i))
          .executeTakeFirst(),
      ),
    conflict: 'the group already has another creator in easy-chat',
  } satisfies TableSpec<GoTables['group_members'], Omit<Database['groupMembers'], 'mutedUntil'>>,
  group_requests: {
    map: mapGroupRequest,
    goId: (go) => String(go.id),
    key: (row) => row.id,
    present: (db, rows) =>
      byId(
        db,
        'groupRequests',
        rows.map((r) => r.id),
      ),
    insert: async (db, rows) =>
      insertedRows(
        await db
          .insertInto('groupRequests')
          .values(
            rows.map((r) => ({
              id: r.id,
              groupId: r.groupId,
              reqId: r.reqId,
              reqMsg: r.reqMsg,
              reqTime: r.reqTime,
              joinSource: r.joinSource,
              inviterUid: r.inviterUid,
              handleUid: r.handleUid,
              handleResult: r.handleResult,
              handledAt: r.handledAt,
            })),
          )
          .$call((i) => skipExisting(db, i))
          .executeTakeFirst(),
      ),
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
