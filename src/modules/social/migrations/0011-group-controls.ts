import type { Kysely } from 'kysely';

/**
 * Group-wide mute (`groups.muted`, 0/1: only the creator and managers may post)
 * and per-member mutes (`group_members.muted_until`, epoch ms; 0 or a past time
 * means not muted). Both are read by the one query that authorizes a group post.
 * Each column is added on its own: SQLite alters one column per statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('groups')
    .addColumn('muted', 'smallint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('group_members')
    .addColumn('muted_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('group_members').dropColumn('muted_until').execute();
  await db.schema.alterTable('groups').dropColumn('muted').execute();
}
