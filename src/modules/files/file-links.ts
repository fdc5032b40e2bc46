import { createHmac, timingSafeEqual } from 'node:crypto';

export type FileVariant = 'file' | 'thumb';

export interface LinkClaims {
  fileId: string;
  variant: FileVariant;
  userId: string;
  /** Epoch seconds. */
  expires: number;
}

/**
 * Short-lived signed download links, for places that cannot send a bearer token
 * (`<img src>`, `<audio src>`, a download in a new tab). The link names the user
 * it was made for, and every download checks that user's access again, so a
 * recalled message's file stops being served even to a link that has not expired.
 */
export class FileLinks {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlSec: number,
  ) {
    // A key of its own: a link signature can never be mistaken for a token's.
    this.key = createHmac('sha256', secret).update('easy-chat file links v1').digest();
  }

  /** A path (relative to the API origin) that serves the file to `userId` until it expires. */
  link(
    fileId: string,
    variant: FileVariant,
    userId: string,
    nowMs: number,
  ): { url: string; expires: number } {
    const expires = Math.floor(nowMs / 1000) + this.ttlSec;
    const sig = this.sign({ fileId, variant, userId, expires });
    const path = `/v1/files/${encodeURIComponent(fileId)}${variant === 'thumb' ? '/thumb' : ''}`;
    const query = new URLSearchParams({ uid: userId, expires: String(expires), sig });
    return { url: `${path}?${query.toString()}`, expires };
  }

  /** Whether `sig` is ours for these claims and has not expired. */
  verify(claims: LinkClaims, sig: string, nowMs: number): boolean {
    if (claims.expires * 1000 < nowMs) return false;
    const expected = Buffer.from(this.sign(claims));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(c: LinkClaims): string {
    return createHmac('sha256', this.key)
      .update(`${c.fileId}\n${c.variant}\n${c.userId}\n${c.expires}`)
      .digest('base64url');
  }
}
