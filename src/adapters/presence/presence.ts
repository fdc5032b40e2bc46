/**
 * Who is online, and on which gateway. Gateways report each authenticated
 * connection; anyone (friend lists, push routing, offline notifications) asks.
 * In-process for one node; Redis across many, where each gateway also sends a
 * heartbeat so that a crashed gateway's users count as offline within
 * `nodeTimeoutMs`. Both implementations pass presence.contract.ts.
 */
export interface Presence {
  /**
   * Every connection it knows is on this node (in-process presence, one node): a
   * push that reached this node's sockets has reached every socket there is.
   */
  readonly thisNodeOnly?: boolean;
  /**
   * One connection of `userId` opened on this node, authenticated with the access
   * token `tokenId` (its jti: the device, for push). Never fails because the shared
   * store is down: the connection is kept and registered there once it answers.
   */
  connected(userId: string, connectionId: string, tokenId?: string): Promise<void>;
  /** That connection closed. The user stays online while any other connection lives. */
  disconnected(userId: string, connectionId: string): Promise<void>;
  /**
   * Whether `userId` has a live connection, answered at once from memory: only a
   * presence that holds every connection there is (thisNodeOnly) has it.
   */
  isOnlineNow?(userId: string): boolean;
  /** The subset of `userIds` with at least one live connection. Lookups throw DependencyUnavailableError while the store is down. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * Of these users, those with a live connection, each with the access tokens
   * (jti) their live connections authenticated with: a push device registered with
   * one of those tokens is online. Users with no live connection are absent; a
   * connection opened without a token id counts for the user only.
   */
  onlineTokens(userIds: readonly string[]): Promise<Map<string, Set<string>>>;
  /**
   * Where to deliver to these users: live gateway node id → the users connected
   * there. Users with no live connection are absent.
   */
  routes(userIds: readonly string[]): Promise<Map<string, string[]>>;
  /** How many distinct users have a live connection anywhere (the admin statistics). */
  onlineCount(): Promise<number>;
  /** Removes this node's connections (shutdown) and stops its heartbeat. */
  close(): Promise<void>;
}
