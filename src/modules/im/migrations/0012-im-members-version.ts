import type { Kysely } from 'kysely';

/**
 * `conversations.members_version` counts changes to who is in a conversation: every
 * member row added or removed bumps it in the same transaction. Group fan-out keeps
 * a conversation's member list in memory and reads only this one number per push to
 * know the list still holds (src/modules/im/cached-audience.ts), instead of reading
 * every member row for every message.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .addColumn('members_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('conversations').dropColumn('members_version').execute();
}
