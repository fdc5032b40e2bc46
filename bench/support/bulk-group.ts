/**
 * Puts many members into an easy-chat group at once, writing their rows through the
 * project's own repositories, straight into the server's database.
 *
 * Joining through `POST /v1/social/group/putIn` posts a "member.joined" notice per
 * join, and each notice's fan-out reads the group's member list again: a group of
 * n costs about n²/2 member rows read, which on PostgreSQL kept the group of 10,000
 * from ever being set up. Here the rows every join writes are written in one
 * transaction — the membership, the member count, the member's place in the group
 * conversation (joined at the current seq) — and nothing else: no notices, no
 * events. Bumping the conversation's `members_version` (ensureMembers does) is what
 * makes the running server read the new audience; its other answers about the group
 * (the sender's own membership) were true before and stay true.
 *
 * The measured part is untouched: messages still go through the server's send path.
 */
import Database from 'better-sqlite3';
import { CamelCasePlugin, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from '../../src/adapters/storage/schema.js';
import { ConversationRepository } from '../../src/modules/im/conversation.repository.js';
import { GroupRepository } from '../../src/modules/social/group.repository.js';
import { JoinSource, RoleLevel } from '../../src/modules/social/social.entity.js';

export type BenchDatabase =
  { driver: 'sqlite'; file: string } | { driver: 'postgres'; url: string; schema: string };

/** Rows per multi-row statement (PostgreSQL's and SQLite's parameter limits allow it). */
const BATCH = 500;

function open(database: BenchDatabase): Kysely<Schema> {
  const plugins = [new CamelCasePlugin()];
  if (database.driver === 'sqlite') {
    const file = new Database(database.file, { fileMustExist: true });
    // The server holds the same file open; wait for its writes instead of failing.
    file.pragma('busy_timeout = 10000');
    return new Kysely<Schema>({ dialect: new SqliteDialect({ database: file }), plugins });
  }
  const pool = new pg.Pool({
    connectionString: database.url,
    max: 1,
    options: `-c search_path=${database.schema}`,
  });
  return new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), plugins });
}

/** Adds `memberIds` (registered users, not yet members) to the active group `groupId`. */
export async function addMembersInBulk(
  database: BenchDatabase,
  groupId: string,
  inviterId: string,
  memberIds: readonly string[],
): Promise<void> {
  const db = open(database);
  const groups = new GroupRepository(db);
  const conversations = new ConversationRepository(db);
  const now = Date.now();
  try {
    await db.transaction().execute(async (trx) => {
      let added = 0;
      for (const userId of memberIds) {
        const fresh = await groups.insertMember(trx, {
          groupId,
          userId,
          roleLevel: RoleLevel.member,
          joinTime: now,
          joinSource: JoinSource.invite,
          inviterUid: inviterId,
          operatorUid: inviterId,
        });
        if (fresh) added += 1;
      }
      await groups.addToMemberCount(trx, groupId, added);
      // As ConversationService.addGroupMember: they read from the current seq onward.
      await conversations.joinGroup(trx, groupId, memberIds, now, BATCH);
    });
  } finally {
    await db.destroy();
  }
}
