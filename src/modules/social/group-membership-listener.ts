import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';

/**
 * Told about membership changes inside the transaction that makes them, so that
 * state kept elsewhere (the IM module's per-member conversation state) commits or
 * rolls back together with the membership itself.
 */
export interface GroupMembershipListener {
  memberJoined(trx: Kysely<Database>, groupId: string, userId: string): Promise<void>;
  memberLeft(trx: Kysely<Database>, groupId: string, userId: string): Promise<void>;
  groupDismissed(trx: Kysely<Database>, groupId: string): Promise<void>;
}
