import { createHash } from 'node:crypto';

/** APNs refuses an `apns-collapse-id` over 64 bytes. */
const APNS_COLLAPSE_ID_MAX_BYTES = 64;

/**
 * The `apns-collapse-id` for a collapse key (a conversation id): the key itself
 * when it fits, else a stable 43-character digest of it, so a long group id still
 * collapses into one notification.
 */
export function apnsCollapseId(collapseKey: string): string {
  if (Buffer.byteLength(collapseKey) <= APNS_COLLAPSE_ID_MAX_BYTES) return collapseKey;
  return createHash('sha256').update(collapseKey).digest('base64url');
}
