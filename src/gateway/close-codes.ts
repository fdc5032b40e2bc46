/**
 * Close codes the gateway uses. 1001 and 1009 are standard; 4xxx are ours, so a
 * client can tell why it was disconnected and whether reconnecting makes sense.
 */
export const CloseCode = {
  /** Server shutting down: reconnect (to another gateway). */
  goingAway: 1001,
  /** A frame above the hard size cap (ws closes the socket itself). */
  tooBig: 1009,
  /** No frame (not even a ping) within the idle time. Reconnect. */
  idleTimeout: 4000,
  /** Token missing, invalid, expired or revoked. Log in again before reconnecting. */
  unauthorized: 4001,
  /** The account was disabled. Do not reconnect. */
  disabled: 4003,
  /** The client did not read its pushes fast enough. Reconnect and sync. */
  slowConsumer: 4008,
  /** The user opened more connections than allowed; the oldest is closed. */
  replaced: 4009,
  /** Far over the frame rate limit. */
  rateLimited: 4029,
} as const;
