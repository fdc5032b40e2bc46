import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { UserRepository } from '../user/user.repository.js';
import type { BlacklistRepository } from './blacklist.repository.js';
import type { BlockedUser } from './social.entity.js';
import { SocialErrors } from './social.errors.js';

export interface BlacklistServiceDeps {
  db: Kysely<Database>;
  blacklist: BlacklistRepository;
  users: UserRepository;
  events: EventRecorder;
  clock: Clock;
}

/**
 * The caller's block list. A block is one-way: the blocked user can no longer
 * message the caller, send them a friend request or invite them to a group (each
 * refused with its own code), and is told nothing else: no push, no event
 * addressed to them, the friendship (if any) stays. Group chat is unaffected.
 */
export class BlacklistService {
  constructor(private readonly deps: BlacklistServiceDeps) {}

  /** Blocks `userId`; blocking someone already blocked changes nothing. */
  async block(callerId: string, userId: string): Promise<void> {
    const { db, blacklist, users, events, clock } = this.deps;
    if (userId === callerId) throw new AppError(SocialErrors.cannotBlockSelf);
    if (!(await users.findById(userId))) throw new AppError(SocialErrors.targetUserNotFound);
    await db.transaction().execute(async (trx) => {
      if (await blacklist.insert(trx, callerId, userId, clock())) {
        await events.record(trx, 'blacklist-added', callerId, {
          userId: callerId,
          blockedUid: userId,
        });
      }
    });
  }

  /** Lifts a block; 404 when the user was not blocked. */
  async unblock(callerId: string, userId: string): Promise<void> {
    const { db, blacklist, events } = this.deps;
    await db.transaction().execute(async (trx) => {
      if (!(await blacklist.delete(trx, callerId, userId))) {
        throw new AppError(SocialErrors.notBlocked);
      }
      await events.record(trx, 'blacklist-removed', callerId, {
        userId: callerId,
        blockedUid: userId,
      });
    });
  }

  list(callerId: string): Promise<BlockedUser[]> {
    return this.deps.blacklist.list(callerId);
  }
}
