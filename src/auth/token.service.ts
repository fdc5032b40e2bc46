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
  /** Issued at, epoch seconds (compared with a user's revocation cut-off). */
  iat: number;
}

export interface IssuedToken {
  token: string;
  /** Expiry, epoch seconds (the Go system's `expire`). */
  expire: number;
}

const ALGORITHM = 'HS256';
const ISSUER = 'easy-chat';
/** Tokens whose signature was checked, kept so a client's next request skips the HMAC. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Issues and checks access tokens (HS256 JWTs). Tokens that logged out, and the
 * tokens of disabled accounts, are refused until they would have expired anyway;
 * those revocations are kept in SQL and read through the cache (token-revocations.ts),
 * so they survive a cache restart.
 */
export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Claims of tokens whose signature, algorithm and issuer were checked, by the whole
   * token text (signature included, so a forged token is never a hit). A client sends
   * the same token on every request; jose's WebCrypto HMAC and key import cost about
   * a seventh of the CPU of a history page. Expiry and revocation are still checked on
   * every call. When full, the oldest entry goes first (a Map keeps insertion order).
   */
  private readonly verified = new Map<string, AuthContext>();

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

  /**
   * A new token for `userId`. Revocation has the one-second resolution of `iat`, so
   * a token issued in the second of a revocation (a password just changed) is
   * stamped one second after that cut-off; otherwise it would be refused at once.
   */
  async issue(userId: string): Promise<IssuedToken> {
    const nowSec = Math.floor(this.deps.clock() / 1000);
    const cutoff = await this.deps.revocations.userCutoff(userId);
    return this.issueAt(userId, cutoff !== undefined && cutoff >= nowSec ? cutoff + 1 : nowSec);
  }

  /**
   * Ends every session of `userId` (tokens issued up to `cutoff`, default now) and
   * returns a token for the one continuing (a changed password: the caller stays
   * logged in, everyone else is out).
   */
  async rotate(userId: string, cutoff?: number): Promise<IssuedToken> {
    await this.revokeUpTo(userId, cutoff ?? (await this.nextCutoff(userId)));
    return this.issue(userId);
  }

  private async issueAt(userId: string, iat: number): Promise<IssuedToken> {
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
    const claims = this.verified.get(token) ?? (await this.verifySignature(token));
    if (claims.exp * 1000 <= this.deps.clock()) {
      this.verified.delete(token);
      throw new AppError(CommonErrors.unauthorized, 'token expired');
    }
    if (await this.deps.revocations.isRevoked(claims)) {
      throw new AppError(CommonErrors.unauthorized, 'token revoked');
    }
    return claims;
  }

  /** Checks signature, algorithm, issuer and expiry with jose, then remembers the claims. */
  private async verifySignature(token: string): Promise<AuthContext> {
    let claims: AuthContext;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        currentDate: new Date(this.deps.clock()),
      });
      if (!payload.sub || !payload.jti || payload.exp === undefined) throw new Error('claims');
      claims = { userId: payload.sub, jti: payload.jti, exp: payload.exp, iat: payload.iat ?? 0 };
    } catch (err) {
      const reason = err instanceof joseErrors.JWTExpired ? 'token expired' : 'token invalid';
      throw new AppError(CommonErrors.unauthorized, reason);
    }
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, claims);
    return claims;
  }

  /**
   * Revokes every token issued to `userId` so far (a disabled account): verify
   * refuses any token issued at or before now. Tokens issued later are not
   * affected. The mark lasts as long as the longest token could.
   */
  async revokeAllFor(userId: string): Promise<void> {
    await this.revokeUpTo(userId, await this.nextCutoff(userId));
  }

  /**
   * The cut-off a revocation of `userId` made now would use (epoch seconds): now,
   * or one past an earlier cut-off of this same second, since tokens issued after
   * that one carry iat = cut-off + 1. Taken before a revocation when an event must
   * name it (gateways then close exactly the sockets of revoked tokens).
   */
  async nextCutoff(userId: string): Promise<number> {
    const nowSec = Math.floor(this.deps.clock() / 1000);
    const previous = await this.deps.revocations.userCutoff(userId);
    return previous !== undefined && previous >= nowSec ? previous + 1 : nowSec;
  }

  /** Refuses every token of `userId` issued at or before `cutoff` (epoch seconds). */
  async revokeUpTo(userId: string, cutoff: number): Promise<void> {
    await this.deps.revocations.revokeUserBefore(
      userId,
      cutoff,
      (cutoff + this.deps.ttlSec + 1) * 1000,
    );
  }

  /** Denies the token until its expiry. */
  async revoke(claims: AuthContext): Promise<void> {
    await this.deps.revocations.revokeToken(claims.jti, claims.exp * 1000);
  }
}
