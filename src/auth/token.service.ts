import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '../errors/app-error.js';
import { CommonErrors } from '../errors/common.errors.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { TokenRevocations } from './token-revocations.js';

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
 * Issues and checks access tokens (HS256 JWTs). Tokens that logged out, and the
 * tokens of disabled accounts, are refused until they would have expired anyway;
 * those revocations are kept in SQL and read through the cache (token-revocations.ts),
 * so they survive a cache restart.
 */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    private readonly deps: {
      secret: string;
      ttlSec: number;
      revocations: TokenRevocations;
      clock: Clock;
    },
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
    if (await this.deps.revocations.isRevoked({ ...claims, iat: issuedAt })) {
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
    const now = this.deps.clock();
    const nowSec = Math.floor(now / 1000);
    await this.deps.revocations.revokeUserBefore(userId, nowSec, now + this.deps.ttlSec * 1000);
  }

  /** Denies the token until its expiry. */
  async revoke(claims: AuthContext): Promise<void> {
    await this.deps.revocations.revokeToken(claims.jti, claims.exp * 1000);
  }
}
