import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { isUniqueViolation } from '../../adapters/storage/storage-errors.js';
import { AppError, type ErrorSpec } from '../../errors/app-error.js';
import type { EventRecorder } from '../../events/event-recorder.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import type {
  RateLimiter,
  RateLimitResult,
  RateLimitRule,
} from '../../adapters/cache/rate-limiter.js';
import { Sex, UserStatus, type User, type UserInfo } from './user.entity.js';
import { UserErrors } from './user.errors.js';
import type { UserPatch, UserRepository } from './user.repository.js';
import type { PasswordHasher } from './password-hasher.js';
import type { AuthContext, IssuedToken, TokenService } from '../../auth/token.service.js';

export interface RegisterInput {
  phone: string;
  password: string;
  nickname: string;
  sex?: number;
  avatar?: string;
}

export interface FindUsersInput {
  ids?: string[];
  phone?: string;
  name?: string;
}

export interface UserServiceDeps {
  db: Kysely<Database>;
  users: UserRepository;
  hasher: PasswordHasher;
  tokens: TokenService;
  events: EventRecorder;
  loginLimiter: RateLimiter;
  registerLimiter: RateLimiter;
  clock: Clock;
  /** The remarks a viewer gave to any of these users (the social module answers). */
  remarks: (viewerId: string, userIds: string[]) => Promise<Map<string, string>>;
  limits: {
    loginPerPhoneAndIp: RateLimitRule;
    loginPerPhone: RateLimitRule;
    loginPerIp: RateLimitRule;
    registerPerIp: RateLimitRule;
    searchLimit: number;
    maxIdsPerQuery: number;
  };
}

/** Accounts: register, log in and out, profile, lookup. */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  /**
   * Every attempt from an address counts, before anything else is looked at: each
   * one may cost an argon2 hash, and a flood of accounts is its own abuse.
   */
  async register(input: RegisterInput, ip: string): Promise<IssuedToken & { user: User }> {
    const { users, hasher, db, events, clock, registerLimiter, limits } = this.deps;
    await withinLimits(UserErrors.registerRateLimited, [
      registerLimiter.hit(`ip:${ip}`, limits.registerPerIp),
    ]);
    // Cheap early answer for the common case; the UNIQUE index decides races.
    if (await users.existsByPhone(input.phone)) throw new AppError(UserErrors.phoneTaken);
    const passwordHash = await hasher.hash(input.password);
    const now = clock();
    const user: User = {
      id: newId(),
      phone: input.phone,
      nickname: input.nickname,
      sex: (input.sex ?? Sex.unknown) as Sex,
      avatar: input.avatar ?? '',
      status: UserStatus.active,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await db.transaction().execute(async (trx) => {
        await users.insert(trx, { ...user, passwordHash });
        await events.record(trx, 'user-created', user.id, {
          userId: user.id,
          nickname: user.nickname,
        });
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(UserErrors.phoneTaken);
      throw err;
    }
    return { ...(await this.deps.tokens.issue(user.id)), user };
  }

  /**
   * Every attempt counts, before the password is checked, against three windows (as
   * OWASP's authentication guidance recommends): the phone from this address (the
   * tight one: guessing from one place), the phone from everywhere (looser: a guess
   * spread over many addresses) and the address whatever the phone (stuffing). A
   * stranger guessing from elsewhere therefore does not lock the owner out.
   */
  async login(phone: string, password: string, ip: string): Promise<IssuedToken> {
    const { users, hasher, loginLimiter, limits, db, events } = this.deps;
    await withinLimits(UserErrors.loginRateLimited, [
      loginLimiter.hit(`phone-ip:${phone}:${ip}`, limits.loginPerPhoneAndIp),
      loginLimiter.hit(`phone:${phone}`, limits.loginPerPhone),
      loginLimiter.hit(`ip:${ip}`, limits.loginPerIp),
    ]);
    const credentials = await users.findCredentialsByPhone(phone);
    const valid = credentials
      ? await hasher.verify(credentials.passwordHash, password)
      : await hasher.verifyAgainstDummy(password);
    if (!credentials || !valid) throw new AppError(UserErrors.invalidCredentials);
    if (credentials.status === UserStatus.disabled) throw new AppError(UserErrors.userDisabled);
    if (hasher.needsRehash(credentials.passwordHash)) {
      // An imported bcrypt hash (the Go easy-chat's) is replaced now that the password is known.
      await users.replacePasswordHash(
        credentials.id,
        credentials.passwordHash,
        await hasher.hash(password),
      );
    }
    await db
      .transaction()
      .execute((trx) =>
        events.record(trx, 'user-logged_in', credentials.id, { userId: credentials.id, ip }),
      );
    return this.deps.tokens.issue(credentials.id);
  }

  async logout(auth: AuthContext): Promise<void> {
    await this.deps.tokens.revoke(auth);
    await this.deps.db.transaction().execute((trx) =>
      this.deps.events.record(trx, 'user-logged_out', auth.userId, {
        userId: auth.userId,
        tokenId: auth.jti,
      }),
    );
  }

  /**
   * Disables an account: login is refused from now on (403 / 200005) and every
   * token issued so far stops working. Records `user-disabled` in the outbox, to
   * which gateways react by closing the user's sockets. Repeating it is harmless.
   */
  async disable(userId: string, by: { reason: string; source: string }): Promise<void> {
    const { db, users, events, clock, tokens } = this.deps;
    const found = await db.transaction().execute(async (trx) => {
      const previous = await users.setStatus(trx, userId, UserStatus.disabled, clock());
      if (previous === undefined) return false;
      await events.record(trx, 'user-disabled', userId, { userId, ...by });
      return true;
    });
    if (!found) throw new AppError(UserErrors.userNotFound);
    await tokens.revokeAllFor(userId);
  }

  /**
   * Enables a disabled account again (login works; tokens revoked by the disabling
   * stay revoked). Records `user-enabled` when the status changed; repeating it is
   * harmless.
   */
  async enable(userId: string, by: { source: string }): Promise<void> {
    const { db, users, events, clock } = this.deps;
    const found = await db.transaction().execute(async (trx) => {
      const previous = await users.setStatus(trx, userId, UserStatus.active, clock());
      if (previous === undefined) return false;
      if (previous !== UserStatus.active) {
        await events.record(trx, 'user-enabled', userId, { userId, ...by });
      }
      return true;
    });
    if (!found) throw new AppError(UserErrors.userNotFound);
  }

  /**
   * Ends every session of a user (force logout): every token issued so far is
   * revoked and `user-sessions_ended` names the cut-off, on which gateways close
   * the sockets opened with those tokens. The user may log in again.
   */
  async endAllSessions(userId: string, by: { source: string }): Promise<void> {
    const { db, users, events, tokens } = this.deps;
    if (!(await users.findById(userId))) throw new AppError(UserErrors.userNotFound);
    // Taken first so the event can name it (as a password change does).
    const revokedUpTo = await tokens.nextCutoff(userId);
    await db
      .transaction()
      .execute((trx) =>
        events.record(trx, 'user-sessions_ended', userId, { userId, revokedUpTo, ...by }),
      );
    await tokens.revokeUpTo(userId, revokedUpTo);
  }

  async getProfile(userId: string): Promise<UserInfo> {
    const user = await this.deps.users.findById(userId);
    if (!user) throw new AppError(UserErrors.userNotFound);
    return toInfo(user, true);
  }

  async updateProfile(userId: string, patch: UserPatch): Promise<UserInfo> {
    const fields = Object.keys(patch).filter((k) => patch[k as keyof UserPatch] !== undefined);
    if (fields.length === 0) return this.getProfile(userId);
    const { db, users, events, clock } = this.deps;
    const user = await db.transaction().execute(async (trx) => {
      const updated = await users.update(trx, userId, patch, clock());
      if (updated) await events.record(trx, 'user-updated', userId, { userId, fields });
      return updated;
    });
    if (!user) throw new AppError(UserErrors.userNotFound);
    return toInfo(user, true);
  }

  /**
   * Looks users up by ids, exact phone and/or nickname substring (all given filters
   * must match). Another user's phone is masked unless the caller searched for
   * exactly that phone, so name search cannot harvest phone numbers.
   */
  async find(viewerId: string, input: FindUsersInput): Promise<UserInfo[]> {
    const { limits, users } = this.deps;
    if (!input.ids?.length && input.phone === undefined && input.name === undefined) {
      throw new AppError(UserErrors.searchFilterRequired);
    }
    const ids = input.ids?.slice(0, limits.maxIdsPerQuery);
    const found = await users.search({ ...input, ids, limit: limits.searchLimit });
    const remarks = await this.deps.remarks(
      viewerId,
      found.map((u) => u.id),
    );
    return found.map((u) => {
      const info = toInfo(u, u.id === viewerId || u.phone === input.phone);
      const remark = remarks.get(u.id);
      return remark === undefined ? info : { ...info, remark };
    });
  }
}

/** Thrown when a rate-limit window is exhausted; carries Retry-After for the edge. */
export class RateLimitedError extends AppError {
  constructor(
    spec: ErrorSpec,
    readonly retryAfterMs: number,
  ) {
    super(spec);
  }
}

/** Awaits the window hits; throws `spec` (with the longest wait) if any is exhausted. */
async function withinLimits(spec: ErrorSpec, hits: Array<Promise<RateLimitResult>>) {
  const refused = (await Promise.all(hits)).filter((r) => !r.allowed);
  if (refused.length > 0) {
    throw new RateLimitedError(spec, Math.max(...refused.map((r) => r.retryAfterMs)));
  }
}

function toInfo(user: User, showPhone: boolean): UserInfo {
  if (user.status === UserStatus.deleted) {
    return { id: user.id, mobile: '', nickname: user.nickname, sex: 0, avatar: '', deleted: true };
  }
  return {
    id: user.id,
    mobile: showPhone ? user.phone : maskPhone(user.phone),
    nickname: user.nickname,
    sex: user.sex,
    avatar: user.avatar,
  };
}

/** 13812345678 → 138****5678. */
export function maskPhone(phone: string): string {
  if (phone.length < 8) return '*'.repeat(phone.length);
  return `${phone.slice(0, 3)}${'*'.repeat(phone.length - 7)}${phone.slice(-4)}`;
}
