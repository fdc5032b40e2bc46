/**
 * Who is online. Gateways report each authenticated connection; anyone (friend
 * lists, group member lists, push routing) asks which users have at least one.
 * In-process on one node; a Redis implementation shares it across gateways.
 */
export interface Presence {
  /** One connection of `userId` opened on this node. */
  connected(userId: string, connectionId: string): Promise<void>;
  /** That connection closed. The user stays online while any other connection lives. */
  disconnected(userId: string, connectionId: string): Promise<void>;
  /** The subset of `userIds` with at least one live connection. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
