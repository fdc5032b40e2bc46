import type { Kysely } from 'kysely';
import type { Presence } from '../../adapters/presence/presence.js';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type { UserRepository } from '../user/user.repository.js';
import type { BlacklistRepository } from './blacklist.repository.js';
import type { FriendRepository } from './friend.repository.js';
import {
  AddSource,
  HandleResult,
  pairKey,
  type Friend,
  type FriendRequest,
} from './social.entity.js';
import { SocialErrors } from './social.errors.js';
import { ConcurrentChange, retryOnConflict } from './transaction-retry.js';

type Db = Kysely<Database>;

export interface FriendServiceDeps {
  db: Db;
  friends: FriendRepository;
  blacklist: BlacklistRepository;
  users: UserRepository;
  events: EventRecorder;
  presence: Presence;
  clock: Clock;
}

export interface FriendRequestInput {
  /** Who the caller wants to befriend. */
  userId: string;
  reqMsg?: string;
}

export interface FriendRequestOutcome {
  /** The pending request, or the other user's request that this call accepted. */
  id: string;
  /** 1 pending, 2 accepted (the other user had already asked: now friends). */
  handleResult: typeof HandleResult.pending | typeof HandleResult.accepted;
}

export interface FriendHandleInput {
  friendReqId: string;
  handleResult:
    typeof HandleResult.accepted | typeof HandleResult.refused | typeof HandleResult.cancelled;
}

/** Friend requests and friendships. Every rule is enforced in the transaction that writes. */
export class FriendService {
  constructor(private readonly deps: FriendServiceDeps) {}

  /**
   * Asks `input.userId` to become friends. Repeating the request while it is pending
   * returns the same request; if that user has already asked the caller, this accepts
   * their request instead. Concurrent calls for one pair leave one pending request
   * (a unique index on the pair) or one friendship.
   */
  async request(callerId: string, input: FriendRequestInput): Promise<FriendRequestOutcome> {
    const { friends, users, db } = this.deps;
    const target = input.userId;
    if (target === callerId) throw new AppError(SocialErrors.selfFriendRequest);
    if (!(await users.findById(target))) throw new AppError(SocialErrors.targetUserNotFound);
    if (await this.deps.blacklist.isBlocked(target, callerId)) {
      throw new AppError(SocialErrors.blockedByUser);
    }

    return retryOnConflict(() =>
      db.transaction().execute(async (trx) => {
        if (await friends.areFriends(callerId, target, trx)) {
          throw new AppError(SocialErrors.alreadyFriends);
        }
        const pending = await friends.findPendingBetween(callerId, target, trx);
        if (pending?.reqUid === callerId)
          return { id: pending.id, handleResult: HandleResult.pending };
        if (pending) {
          // Settled by someone else since we read it: start over and see the outcome.
          if (!(await this.accept(trx, pending, callerId))) throw new ConcurrentChange();
          return { id: pending.id, handleResult: HandleResult.accepted };
        }
        const now = this.deps.clock();
        const id = newId();
        const reqMsg = input.reqMsg ?? '';
        const inserted = await friends.insertPendingRequest(trx, {
          id,
          userId: target,
          reqUid: callerId,
          reqMsg,
          reqTime: now,
        });
        // A concurrent call for this pair inserted first; the retry finds its request.
        if (!inserted) throw new ConcurrentChange();
        // The insert waited for any concurrent handler of this pair's pending request,
        // so a friendship it committed is visible now (read committed): re-check.
        if (await friends.areFriends(callerId, target, trx)) {
          throw new AppError(SocialErrors.alreadyFriends);
        }
        await this.deps.events.record(trx, 'friend_request-created', pairKey(callerId, target), {
          requestId: id,
          reqUid: callerId,
          userId: target,
          reqMsg,
        });
        return { id, handleResult: HandleResult.pending };
      }),
    );
  }

  /**
   * Accepts (2) or refuses (3) a request addressed to the caller, or cancels (4) one
   * the caller sent. Only a pending request changes, and only once: of concurrent
   * handlers one succeeds and the others get 409.
   */
  async handle(callerId: string, input: FriendHandleInput): Promise<void> {
    const { friends, db } = this.deps;
    await db.transaction().execute(async (trx) => {
      const request = await friends.findRequest(input.friendReqId, trx);
      if (!request) throw new AppError(SocialErrors.friendRequestNotFound);
      if (input.handleResult === HandleResult.cancelled) {
        if (request.reqUid !== callerId) throw new AppError(SocialErrors.notFriendRequestSender);
      } else if (request.userId !== callerId) {
        throw new AppError(SocialErrors.notFriendRequestAddressee);
      }
      if (request.handleResult !== HandleResult.pending) {
        throw new AppError(SocialErrors.requestAlreadyHandled);
      }
      const settled =
        input.handleResult === HandleResult.accepted
          ? await this.accept(trx, request, callerId)
          : await this.settle(trx, request, input.handleResult, callerId);
      // It was pending when read: a concurrent handler got there first.
      if (!settled) throw new AppError(SocialErrors.requestAlreadyHandled);
    });
  }

  /** Pending requests addressed to the caller, oldest first. */
  pendingFor(callerId: string): Promise<FriendRequest[]> {
    return this.deps.friends.listPendingFor(callerId);
  }

  list(callerId: string): Promise<Friend[]> {
    return this.deps.friends.listFriends(callerId);
  }

  /** The caller's friends that are online now, as `{uid: true}`. */
  async online(callerId: string): Promise<Record<string, true>> {
    const ids = await this.deps.friends.friendIds(callerId);
    const online = ids.length > 0 ? await this.deps.presence.onlineAmong(ids) : new Set<string>();
    return Object.fromEntries([...online].map((id) => [id, true as const]));
  }

  /** Sets the caller's private name for a friend ('' clears it); 404 when not friends. */
  async setRemark(callerId: string, friendUid: string, remark: string): Promise<void> {
    if (!(await this.deps.friends.setRemark(callerId, friendUid, remark))) {
      throw new AppError(SocialErrors.notFriends);
    }
  }

  /** Ends a friendship in both directions; 404 when there is none. */
  async remove(callerId: string, friendUid: string): Promise<void> {
    const { friends, db, events } = this.deps;
    await db.transaction().execute(async (trx) => {
      const deleted = await friends.deleteFriendship(trx, callerId, friendUid);
      if (deleted === 0) throw new AppError(SocialErrors.notFriends);
      await events.record(trx, 'friend-deleted', pairKey(callerId, friendUid), {
        userId: callerId,
        friendUid,
      });
    });
  }

  /**
   * Accepts a pending request: its result and both friendship rows in the caller's
   * transaction. False (and nothing written) when it is no longer pending.
   */
  private async accept(trx: Db, request: FriendRequest, handlerUid: string): Promise<boolean> {
    const now = this.deps.clock();
    if (!(await this.settle(trx, request, HandleResult.accepted, handlerUid))) return false;
    const written = await this.deps.friends.insertFriendship(
      trx,
      request.userId,
      request.reqUid,
      AddSource.request,
      now,
    );
    if (written > 0) {
      await this.deps.events.record(trx, 'friend-added', pairKey(request.userId, request.reqUid), {
        userId: request.userId,
        friendUid: request.reqUid,
        addSource: AddSource.request,
        requestId: request.id,
      });
    }
    return true;
  }

  private async settle(
    trx: Db,
    request: FriendRequest,
    result: FriendHandleInput['handleResult'],
    handlerUid: string,
  ): Promise<boolean> {
    const now = this.deps.clock();
    if (!(await this.deps.friends.settleRequest(trx, request.id, result, now))) return false;
    await this.deps.events.record(
      trx,
      'friend_request-handled',
      pairKey(request.userId, request.reqUid),
      {
        requestId: request.id,
        reqUid: request.reqUid,
        userId: request.userId,
        handleResult: result,
        handlerUid,
      },
    );
    return true;
  }
}
