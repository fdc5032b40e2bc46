import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Cache } from '../adapters/cache/cache.js';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';

/** Who a verified token speaks for. */
export interface AuthContext {
  userId: string;
  /** Token id, the denylist key. */
  jti: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface IssuedToken {
  token: string;
  /** Expiry, epoch seconds (the Go system's `expire`). */
  expire: number;
}

const ALGORITHM = 'HS256';
const ISSUER = 'easy-chat';

/**
 * Issues and checks access tokens (HS256 JWTs) and keeps the denylist of tokens
 * that logged out. The denylist lives in the shared Cache, each entry only until
 * the token would have expired anyway.
 */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    private readonly deps: { secret: string; ttlSec: number; cache: Cache; clock: Clock },
  ) {
    this.key = new TextEncoder().encode(deps.secret);
  }

  async issue(userId: string): Promise<IssuedToken> {
    const iat = Math.floor(this.deps.clock() / 1000);
    const expire = iat + this.deps.ttlSec;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM })
      .setIssuer(ISSUER)
      .setSubject(userId)
      .setJti(newId())
      .setIssuedAt(iat)
      .setExpirationTime(expire)
      .sign(this.key);
    return { token, expire };
  }

  /** Verifies signature, expiry, the denylist and per-user revocation; throws 401 / 100003 otherwise. */
  async verify(token: string): Promise<AuthContext> {
    let claims: AuthContext;
    let issuedAt: number;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        currentDate: new Date(this.deps.clock()),
      });
      if (!payload.sub || !payload.jti || payload.exp === undefined) throw new Error('claims');
      claims = { userId: payload.sub, jti: payload.jti, exp: payload.exp };
      issuedAt = payload.iat ?? 0;
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? 'token expired' : 'token invalid';
      throw new AppError(CommonErrors.unauthorized, reason);
    }
    const [denied, revokedBefore] = await Promise.all([
      this.deps.cache.get(denyKey(claims.jti)),
      this.deps.cache.get(revokedBeforeKey(claims.userId)),
    ]);
    // iat has one-second resolution: a token from the second of revocation is revoked too.
    if (denied !== null || (revokedBefore !== null && issuedAt <= Number(revokedBefore))) {
      throw new AppError(CommonErrors.unauthorized, 'token revoked');
    }
    return claims;
  }

  /**
   * Revokes every token issued to `userId` so far (a disabled account): verify
   * refuses any token issued at or before now. Tokens issued later are not
   * affected. The mark lasts as long as the longest token could.
   */
  async revokeAllFor(userId: string): Promise<void> {
    const nowSec = Math.floor(this.deps.clock() / 1000);
    await this.deps.cache.set(revokedBeforeKey(userId), String(nowSec), this.deps.ttlSec * 1000);
  }

  /** Denies the token until its expiry. */
  async revoke(claims: AuthContext): Promise<void> {
    const ttlMs = claims.exp * 1000 - this.deps.clock();
    if (ttlMs > 0) await this.deps.cache.set(denyKey(claims.jti), '1', ttlMs);
  }
}

function denyKey(jti: string): string {
  return `deny:${jti}`;
}

function revokedBeforeKey(userId: string): string {
  return `revoked-before:${userId}`;
}
