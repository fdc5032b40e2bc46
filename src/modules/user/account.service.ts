import type { Kysely } from 'kysely';
import type { RateLimiter, RateLimitRule } from '../../adapters/cache/rate-limiter.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { AuthContext, IssuedToken, TokenService } from '../../auth/token.service.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { PasswordHasher } from './password-hasher.js';
import { UserErrors } from './user.errors.js';
import type { UserRepository } from './user.repository.js';
import { RateLimitedError } from './user.service.js';

/**
 * What other modules do when an account is deleted, inside the deleting
 * transaction (the social module ends friendships and memberships).
 */
export interface AccountRemovalListener {
  accountDeleted(trx: Kysely<Database>, userId: string): Promise<void>;
}

export interface AccountServiceDeps {
  db: Kysely<Database>;
  users: UserRepository;
  hasher: PasswordHasher;
  tokens: TokenService;
  events: EventRecorder;
  clock: Clock;
  /** Counts password checks per user (a stolen token must not allow guessing). */
  limiter: RateLimiter;
  perUser: RateLimitRule;
  removal: AccountRemovalListener;
}

/** The account's own life cycle: change password, delete the account. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  /**
   * Changes the password after checking the old one. Every other session ends
   * (their tokens are revoked, gateways close their sockets on
   * `user-password_changed`); the caller continues with the token returned.
   */
  async changePassword(
    auth: AuthContext,
    oldPassword: string,
    newPassword: string,
  ): Promise<IssuedToken> {
    const { db, users, hasher, events, clock, tokens } = this.deps;
    await this.checkPassword(auth.userId, oldPassword);
    const hash = await hasher.hash(newPassword);
    // Taken first so the event can name it: gateways close exactly the sockets whose
    // tokens it revokes, not the one this client opens with its new token.
    const revokedUpTo = await tokens.nextCutoff(auth.userId);
    await db.transaction().execute(async (trx) => {
      if (!(await users.setPasswordHash(trx, auth.userId, hash, clock()))) {
        throw new AppError(UserErrors.userNotFound);
      }
      await events.record(trx, 'user-password_changed', auth.userId, {
        userId: auth.userId,
        how: 'changed',
        revokedUpTo,
      });
    });
    return tokens.rotate(auth.userId, revokedUpTo);
  }

  /**
   * Deletes the caller's account after checking its password: in one transaction
   * the row is tombstoned (users.markDeleted), the other modules let go of it
   * (friendships, block lists, requests, groups: AccountRemovalListener) and
   * `user-deleted` is recorded; then every token is revoked. Messages stay.
   */
  async deleteAccount(auth: AuthContext, password: string): Promise<void> {
    const { db, users, events, clock, tokens, removal } = this.deps;
    await this.checkPassword(auth.userId, password);
    await db.transaction().execute(async (trx) => {
      if (!(await users.markDeleted(trx, auth.userId, clock()))) {
        throw new AppError(UserErrors.userNotFound);
      }
      await removal.accountDeleted(trx, auth.userId);
      await events.record(trx, 'user-deleted', auth.userId, { userId: auth.userId });
    });
    await tokens.revokeAllFor(auth.userId);
  }

  private async checkPassword(userId: string, password: string): Promise<void> {
    const { users, hasher, limiter, perUser } = this.deps;
    const hit = await limiter.hit(`user:${userId}`, perUser);
    if (!hit.allowed) throw new RateLimitedError(UserErrors.passwordRateLimited, hit.retryAfterMs);
    const credentials = await users.findCredentialsById(userId);
    if (!credentials) throw new AppError(UserErrors.userNotFound);
    if (!(await hasher.verify(credentials.passwordHash, password))) {
      throw new AppError(UserErrors.passwordIncorrect);
    }
  }
}
