import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Cache } from '../../adapters/cache/cache.js';
import { AppError } from '../../errors/app-error.js';
import { CommonErrors } from '../../errors/common.errors.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';

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

  /** Verifies signature, expiry and the denylist; throws 401 / 100003 otherwise. */
  async verify(token: string): Promise<AuthContext> {
    let claims: AuthContext;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        currentDate: new Date(this.deps.clock()),
      });
      if (!payload.sub || !payload.jti || payload.exp === undefined) throw new Error('claims');
      claims = { userId: payload.sub, jti: payload.jti, exp: payload.exp };
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? 'token expired' : 'token invalid';
      throw new AppError(CommonErrors.unauthorized, reason);
    }
    if ((await this.deps.cache.get(denyKey(claims.jti))) !== null) {
      throw new AppError(CommonErrors.unauthorized, 'token revoked');
    }
    return claims;
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
