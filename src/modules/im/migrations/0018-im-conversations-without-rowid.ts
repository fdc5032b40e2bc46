import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * On SQLite, `conversations` and `conversation_members` become WITHOUT ROWID tables,
 * stored in the tree of their primary keys (issue 14; docs/performance-log.md, "Members and
 * conversations without rowid"). Every statement of a send finds its row by that key
 * (the seq's upsert by id and its two subqueries by (conversation, user), the read
 * position's move by (conversation, user)): in a rowid table each is a seek in the key's
 * own index and then a second one in the table; here it is one. Rows are small (ids and
 * numbers), so the trees stay as shallow as the rowid tables were. The secondary indexes
 * stay as they were; their entries now carry the primary key instead of a rowid.
 *
 * SQLite cannot change a table to WITHOUT ROWID in place: each is rebuilt as its
 * documented procedure says (a new table, rows copied, the old one dropped, the new one
 * renamed, its indexes made again), in one transaction so a failure leaves the tables as
 * they were. No foreign key, trigger or view refers to either table and no statement
 * reads their rowid. PostgreSQL and MySQL are unchanged (their tables are already kept
 * by their primary keys' order: a PostgreSQL heap has no such second seek to save, and
 * InnoDB clusters by the primary key).
 */
const CONVERSATIONS = `"id" varchar(80) primary key, "chat_type" smallint not null,
  "max_seq" bigint default 0 not null, "last_msg_id" varchar(32),
  "created_at" bigint not null, "updated_at" bigint not null,
  "max_mod_seq" bigint default 0 not null, "members_version" bigint default 0 not null`;

const MEMBERS = `"conversation_id" varchar(80) not null, "user_id" varchar(32) not null,
  "chat_type" smallint not null, "target_id" varchar(32) not null,
  "read_seq" bigint default 0 not null, "join_seq" bigint default 0 not null,
  "is_show" smallint default 1 not null, "created_at" bigint not null,
  "updated_at" bigint not null, "pinned" smallint default 0 not null,
  "muted" smallint default 0 not null, "clear_seq" bigint default 0 not null,
  "mention_seq" bigint default 0 not null,
  constraint "conversation_members_pk" primary key ("conversation_id", "user_id")`;

/** The indexes of conversation_members, made again after its rebuild (0005). */
const MEMBER_INDEXES = [
  'create index "conversation_members_user_idx" on "conversation_members" ("user_id")',
  // Un-hiding on a new message touches only hidden rows.
  `create index "conversation_members_hidden_idx" on "conversation_members" ("conversation_id")
     where "is_show" = 0`,
];

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  await rebuildBoth(db, 'without rowid');
}

export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  await rebuildBoth(db, '');
}

async function rebuildBoth(db: Kysely<unknown>, options: string): Promise<void> {
  // Kysely runs SQLite's migrations outside a transaction (it assumes DDL cannot be in
  // one); SQLite's DDL can, and a rebuild stopped half-way would lose a table.
  await db.transaction().execute(async (trx) => {
    await rebuild(trx, 'conversations', CONVERSATIONS, options, []);
    await rebuild(trx, 'conversation_members', MEMBERS, options, MEMBER_INDEXES);
  });
}

/** SQLite's table rebuild: the rows copied column by column, by name. */
async function rebuild(
  db: Kysely<unknown>,
  table: string,
  columns: string,
  options: string,
  indexes: string[],
): Promise<void> {
  const names = [...columns.matchAll(/"(\w+)" (?:varchar|smallint|bigint)/g)]
    .map((m) => `"${m[1]}"`)
    .join(', ');
  const next = `${table}_rebuilt`;
  // One line in sqlite_master, as the tables' other definitions are.
  const definition = columns.replace(/\s+/g, ' ');
  await sql.raw(`create table "${next}" (${definition}) ${options}`).execute(db);
  await sql.raw(`insert into "${next}" (${names}) select ${names} from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${next}" rename to "${table}"`).execute(db);
  for (const index of indexes) await sql.raw(index.replace(/\s+/g, ' ')).execute(db);
}
