import { sql, type Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Friends and groups. Every "exactly one" rule of the social module is an index
 * here, so concurrent requests cannot break it whatever the service does:
 * one friendship row per direction, one pending friend request per pair of users
 * (in either direction), one membership per (group, user), one creator per group
 * and one pending join request per (group, user). Partial unique indexes behave
 * the same on SQLite and PostgreSQL; MySQL has none, so there the index is on an
 * invisible generated column that is NULL for the rows the rule does not cover
 * (a unique index allows any number of NULLs).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const createTable = await tableMaker(db, dialect);
  const partialUnique = async (
    index: string,
    table: string,
    columns: string[],
    condition: string,
  ): Promise<void> => {
    if (dialect !== 'mysql') {
      await db.schema
        .createIndex(index)
        .unique()
        .on(table)
        .columns(columns)
        .where(sql.raw<boolean>(condition))
        .execute();
      return;
    }
    const generated = columns.map((column) => `${column}_if_${index}`);
    for (const [i, column] of columns.entries()) {
      await sql
        .raw(
          `alter table \`${table}\` add column \`${generated[i]}\` varchar(65) ` +
            `generated always as (case when ${condition} then \`${column}\` end) virtual invisible`,
        )
        .execute(db);
    }
    await db.schema.createIndex(index).unique().on(table).columns(generated).execute();
  };

  await createTable('friends')
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('friend_uid', 'varchar(32)', (c) => c.notNull())
    .addColumn('remark', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('add_source', 'smallint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('friends_pkey', ['user_id', 'friend_uid'])
    .execute();

  await createTable('friend_requests')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    // The addressee; req_uid is the sender (the Go system's naming).
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('req_uid', 'varchar(32)', (c) => c.notNull())
    // The two ids sorted and joined with "_": the same for A→B and B→A.
    .addColumn('pair_key', 'varchar(65)', (c) => c.notNull())
    .addColumn('req_msg', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('req_time', 'bigint', (c) => c.notNull())
    .addColumn('handle_result', 'smallint', (c) => c.notNull())
    .addColumn('handled_at', 'bigint')
    .execute();
  await partialUnique(
    'friend_requests_pending_pair_uq',
    'friend_requests',
    ['pair_key'],
    'handle_result = 1',
  );
  await db.schema
    .createIndex('friend_requests_addressee_idx')
    .on('friend_requests')
    .columns(['user_id', 'handle_result'])
    .execute();

  await createTable('groups')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('icon', 'varchar(512)', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'smallint', (c) => c.notNull())
    .addColumn('creator_uid', 'varchar(32)', (c) => c.notNull())
    .addColumn('group_type', 'smallint', (c) => c.notNull())
    .addColumn('is_verify', 'smallint', (c) => c.notNull())
    .addColumn('notification', 'varchar(1024)', (c) => c.notNull().defaultTo(''))
    .addColumn('notification_uid', 'varchar(32)')
    // Kept in step with group_members inside every join/leave transaction; the
    // member limit is checked against it while the group row is locked.
    .addColumn('member_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await createTable('group_members')
    .addColumn('group_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('role_level', 'smallint', (c) => c.notNull())
    .addColumn('join_time', 'bigint', (c) => c.notNull())
    .addColumn('join_source', 'smallint', (c) => c.notNull())
    .addColumn('inviter_uid', 'varchar(32)')
    .addColumn('operator_uid', 'varchar(32)')
    .addPrimaryKeyConstraint('group_members_pkey', ['group_id', 'user_id'])
    .execute();
  await partialUnique(
    'group_members_one_creator_uq',
    'group_members',
    ['group_id'],
    'role_level = 1',
  );
  await db.schema
    .createIndex('group_members_user_idx')
    .on('group_members')
    .columns(['user_id', 'join_time'])
    .execute();
  // Member pages are in join order (a member who joins during paging is never skipped).
  await db.schema
    .createIndex('group_members_join_order_idx')
    .on('group_members')
    .columns(['group_id', 'join_time', 'user_id'])
    .execute();

  await createTable('group_requests')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('group_id', 'varchar(32)', (c) => c.notNull())
    // The user who would join (the Go system's name).
    .addColumn('req_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('req_msg', 'varchar(255)', (c) => c.notNull().defaultTo(''))
    .addColumn('req_time', 'bigint', (c) => c.notNull())
    .addColumn('join_source', 'smallint', (c) => c.notNull())
    .addColumn('inviter_uid', 'varchar(32)')
    .addColumn('handle_uid', 'varchar(32)')
    .addColumn('handle_result', 'smallint', (c) => c.notNull())
    .addColumn('handled_at', 'bigint')
    .execute();
  await partialUnique(
    'group_requests_pending_uq',
    'group_requests',
    ['group_id', 'req_id'],
    'handle_result = 1',
  );
  await db.schema
    .createIndex('group_requests_group_idx')
    .on('group_requests')
    .columns(['group_id', 'handle_result'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['group_requests', 'group_members', 'groups', 'friend_requests', 'friends']) {
    await db.schema.dropTable(table).execute();
  }
}
