import { sql, type Kysely } from 'kysely';
import type { Cache } from '../adapters/cache/cache.js';
import type { Database } from '../adapters/storage/schema.js';
import { isMysql } from '../adapters/storage/portable.js';
import type { Clock } from '../shared/clock.js';

/** The claims a revocation check looks at. */
export interface RevocationSubject {
  jti: string;
  userId: string;
  /** Issued at, epoch seconds. */
  iat: number;
}

/** Cached answer for "nothing revoked under this key". */
const NONE = '-';
/**
 * How long a "not revoked" answer is cached. A revocation overwrites it at once;
 * the bound only keeps the cache from holding one entry per token ever checked.
 */
const NONE_TTL_MS = 10 * 60_000;

const tokenKey = (jti: string) => `t:${jti}`;
const userKey = (userId: string) => `u:${userId}`;
const cacheKey = (key: string) => `revoked:${key}`;

/**
 * Revoked tokens, durable in SQL (`token_revocations`) and read through the cache.
 * A revocation is written to SQL first and then to the cache; a check reads the
 * cache and, on a miss (a new token, an emptied or restarted Redis), SQL, caching
 * the answer. A "not revoked" answer is cached with setIfAbsent, so it can never
 * overwrite a revocation written meanwhile. Logged-out tokens therefore stay
 * refused whatever happens to the cache.
 */
export class TokenRevocations {
  constructor(private readonly deps: { db: Kysely<Database>; cache: Cache; clock: Clock }) {}

  /** Refuses one token until `untilMs` (its expiry). */
  async revokeToken(jti: string, untilMs: number): Promise<void> {
    await this.write(tokenKey(jti), 0, untilMs);
  }

  /** Refuses every token of the user issued at or before `beforeSec`, until `untilMs`. */
  async revokeUserBefore(userId: string, beforeSec: number, untilMs: number): Promise<void> {
    await this.write(userKey(userId), beforeSec, untilMs);
  }

  /** The user's cut-off (epoch seconds): tokens issued at or before it are refused. */
  userCutoff(userId: string): Promise<number | undefined> {
    return this.read(userKey(userId));
  }

  async isRevoked(subject: RevocationSubject): Promise<boolean> {
    const [token, user] = await Promise.all([
      this.read(tokenKey(subject.jti)),
      this.read(userKey(subject.userId)),
    ]);
    // iat has one-second resolution: a token from the second of revocation is revoked too.
    return token !== undefined || (user !== undefined && subject.iat <= user);
  }

  private async write(key: string, value: number, untilMs: number): Promise<void> {
    const { db, cache, clock } = this.deps;
    const now = clock();
    if (untilMs <= now) return;
    const insert = db.insertInto('tokenRevocations').values({ key, value, expiresAt: untilMs });
    if (isMysql(db)) {
      // The later cut-off wins. MySQL assigns left to right, so expires_at is
      // decided while value still holds the old one.
      await insert
        .onDuplicateKeyUpdate({
          expiresAt: sql<number>`case when \`value\` < ${value} then ${untilMs} else expires_at end`,
          value: sql<number>`greatest(\`value\`, ${value})`,
        })
        .execute();
    } else {
      await insert
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({ value, expiresAt: untilMs })
            .where('tokenRevocations.value', '<', value),
        )
        .execute();
    }
    // Revocations are rare (logouts, disabled accounts): clean up as they come.
    await db.deleteFrom('tokenRevocations').where('expiresAt', '<=', now).execute();
    await cache.set(cacheKey(key), String(value), untilMs - now);
  }

  /** The revocation value under `key`, or undefined when there is none. */
  private async read(key: string): Promise<number | undefined> {
    const { db, cache, clock } = this.deps;
    const cached = await cache.get(cacheKey(key));
    if (cached !== null) return cached === NONE ? undefined : Number(cached);
    const now = clock();
    const row = await db
      .selectFrom('tokenRevocations')
      .select(['value', 'expiresAt'])
      .where('key', '=', key)
      .where('expiresAt', '>', now)
      .executeTakeFirst();
    const value = row ? String(row.value) : NONE;
    const stored = await cache.setIfAbsent(
      cacheKey(key),
      value,
      row ? row.expiresAt - now : NONE_TTL_MS,
    );
    // Lost the race to a revocation written since the SELECT: that one holds.
    const current = stored ? value : ((await cache.get(cacheKey(key))) ?? value);
    return current === NONE ? undefined : Number(current);
  }
}
