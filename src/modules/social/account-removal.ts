import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { BlacklistRepository } from './blacklist.repository.js';
import type { FriendRepository } from './friend.repository.js';
import type { GroupAdminService } from './group-admin.service.js';
import type { GroupRepository } from './group.repository.js';
import { pairKey } from './social.entity.js';

type Db = Kysely<Database>;

/**
 * The social side of deleting an account, run inside the deleting transaction:
 * friendships end (each former friend hears `friend-deleted`), pending friend and
 * join requests are cancelled, block-list rows on either side go, and the account
 * leaves every group (handing over or dismissing the groups it created).
 */
export class SocialAccountRemoval {
  constructor(
    private readonly deps: {
      friends: FriendRepository;
      blacklist: BlacklistRepository;
      groups: GroupRepository;
      groupAdmin: GroupAdminService;
      events: EventRecorder;
      clock: Clock;
    },
  ) {}

  async accountDeleted(trx: Db, userId: string): Promise<void> {
    const { friends, blacklist, groups, groupAdmin, events, clock } = this.deps;
    const now = clock();
    for (const friendUid of await friends.deleteAllOf(trx, userId)) {
      await events.record(trx, 'friend-deleted', pairKey(userId, friendUid), {
        userId,
        friendUid,
      });
    }
    await friends.cancelAllPendingOf(trx, userId, now);
    await blacklist.deleteAllOf(trx, userId);
    await groups.cancelPendingFor(trx, userId, now);
    for (const groupId of await groups.activeGroupIdsOf(trx, userId)) {
      await groupAdmin.leaveDeletedAccount(trx, groupId, userId);
    }
  }
}
