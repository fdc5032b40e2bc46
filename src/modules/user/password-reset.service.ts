import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RateLimiter, RateLimitRule } from '../../adapters/cache/rate-limiter.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { IssuedToken, TokenService } from '../../auth/token.service.js';
import { AppError } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { PasswordHasher } from './password-hasher.js';
import type { PasswordResetRepository } from './password-reset.repository.js';
import { UserStatus } from './user.entity.js';
import { UserErrors } from './user.errors.js';
import type { UserRepository } from './user.repository.js';
import { RateLimitedError } from './user.service.js';

/** The SMS template a reset code goes out with; its params are `code` and `minutes`. */
export const RESET_CODE_TEMPLATE = 'password_reset';

export interface PasswordResetDeps {
  db: Kysely<Database>;
  users: UserRepository;
  codes: PasswordResetRepository;
  hasher: PasswordHasher;
  tokens: TokenService;
  events: EventRecorder;
  clock: Clock;
  logger: Logger;
  /** Keys the stored HMAC of each code, so a leaked table does not give codes away. */
  secret: string;
  /** Sends the code through the notify layer (`notify.sms`). */
  sendSms: (sms: {
    phone: string;
    template: string;
    params: Record<string, string>;
  }) => Promise<unknown>;
  limiter: RateLimiter;
  limits: {
    codeTtlSec: number;
    maxAttempts: number;
    perPhone: RateLimitRule;
    perIp: RateLimitRule;
  };
}

/**
 * Forgotten password: a six-digit code by SMS, then a new password with it. A
 * request answers the same whether or not the phone has an account (the code is
 * issued and sent after the answer, so timing does not tell either); requests are
 * limited per phone and per address. A code is stored as an HMAC, lasts
 * `codeTtlSec`, survives `maxAttempts` wrong guesses and works once; a new request
 * replaces it. A reset ends every session, as a password change does.
 */
export class PasswordResetService {
  constructor(private readonly deps: PasswordResetDeps) {}

  async requestCode(phone: string, ip: string): Promise<void> {
    const { limits } = this.deps;
    await this.withinLimits([
      [`code-phone:${phone}`, limits.perPhone],
      [`code-ip:${ip}`, limits.perIp],
    ]);
    const credentials = await this.deps.users.findCredentialsByPhone(phone);
    if (!credentials || credentials.status !== UserStatus.active) return;
    void this.issue(credentials.id, phone).catch((err: unknown) =>
      this.deps.logger.error({ err }, 'sending a password reset code failed'),
    );
  }

  /**
   * Sets a new password with a code: answers a token (the caller is logged in, as
   * after login); every earlier token is revoked and its sockets closed. A wrong,
   * expired, used or unknown code, or a phone without an account, is one answer.
   */
  async reset(phone: string, code: string, newPassword: string, ip: string): Promise<IssuedToken> {
    const { db, users, codes, hasher, events, clock, tokens, limits } = this.deps;
    await this.withinLimits([[`reset-ip:${ip}`, limits.perIp]]);
    const credentials = await users.findCredentialsByPhone(phone);
    const stored = credentials && (await codes.find(credentials.id));
    if (!credentials || !stored || stored.expiresAt <= clock()) {
      throw new AppError(UserErrors.resetCodeInvalid);
    }
    const hash = this.hashOf(credentials.id, code);
    if (!sameHash(hash, stored.codeHash)) {
      await codes.countWrongGuess(credentials.id, limits.maxAttempts);
      throw new AppError(UserErrors.resetCodeInvalid);
    }
    if (credentials.status !== UserStatus.active) throw new AppError(UserErrors.userDisabled);
    const passwordHash = await hasher.hash(newPassword);
    const revokedUpTo = await tokens.nextCutoff(credentials.id);
    await db.transaction().execute(async (trx) => {
      // Used up first: of two resets racing with one code, only one gets past here.
      if (!(await codes.consume(trx, credentials.id, hash))) {
        throw new AppError(UserErrors.resetCodeInvalid);
      }
      if (!(await users.setPasswordHash(trx, credentials.id, passwordHash, clock()))) {
        throw new AppError(UserErrors.resetCodeInvalid);
      }
      await events.record(trx, 'user-password_changed', credentials.id, {
        userId: credentials.id,
        how: 'reset',
        revokedUpTo,
      });
    });
    return tokens.rotate(credentials.id, revokedUpTo);
  }

  private async issue(userId: string, phone: string): Promise<void> {
    const { codes, clock, limits, sendSms } = this.deps;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = clock();
    await codes.replace(
      {
        userId,
        codeHash: this.hashOf(userId, code),
        attempts: 0,
        expiresAt: now + limits.codeTtlSec * 1000,
      },
      now,
    );
    await sendSms({
      phone,
      template: RESET_CODE_TEMPLATE,
      params: { code, minutes: String(Math.ceil(limits.codeTtlSec / 60)) },
    });
  }

  private hashOf(userId: string, code: string): string {
    return createHmac('sha256', this.deps.secret).update(`reset:${userId}:${code}`).digest('hex');
  }

  /** Every window counts the attempt; any exhausted one refuses it (429, Retry-After). */
  private async withinLimits(windows: Array<[string, RateLimitRule]>): Promise<void> {
    const hits = await Promise.all(windows.map(([key, rule]) => this.deps.limiter.hit(key, rule)));
    const refused = hits.filter((h) => !h.allowed);
    if (refused.length > 0) {
      throw new RateLimitedError(
        UserErrors.resetRateLimited,
        Math.max(...refused.map((h) => h.retryAfterMs)),
      );
    }
  }
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
