import type { Presence } from './presence.js';

/** Presence for a single process: user id → its open connections (connection id → token id). */
export class MemoryPresence implements Presence {
  readonly thisNodeOnly = true;
  private readonly connections = new Map<string, Map<string, string | undefined>>();

  constructor(private readonly nodeId: string) {}

  async connected(userId: string, connectionId: string, tokenId?: string): Promise<void> {
    let open = this.connections.get(userId);
    if (!open) this.connections.set(userId, (open = new Map<string, string | undefined>()));
    open.set(connectionId, tokenId);
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    const open = this.connections.get(userId);
    if (!open) return;
    open.delete(connectionId);
    if (open.size === 0) this.connections.delete(userId);
  }

  isOnlineNow(userId: string): boolean {
    return this.connections.has(userId);
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.connections.has(id)));
  }

  async onlineTokens(userIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    for (const id of userIds) {
      const open = this.connections.get(id);
      if (!open) continue;
      out.set(id, new Set([...open.values()].filter((t): t is string => t !== undefined)));
    }
    return out;
  }

  async routes(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const online = userIds.filter((id) => this.connections.has(id));
    return online.length > 0 ? new Map([[this.nodeId, online]]) : new Map();
  }

  async onlineCount(): Promise<number> {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.connections.clear();
  }
}
