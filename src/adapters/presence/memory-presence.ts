import type { Presence } from './presence.js';

/** Presence for a single process: user id → ids of its open connections. */
export class MemoryPresence implements Presence {
  private readonly connections = new Map<string, Set<string>>();

  constructor(private readonly nodeId: string) {}

  async connected(userId: string, connectionId: string): Promise<void> {
    let set = this.connections.get(userId);
    if (!set) this.connections.set(userId, (set = new Set()));
    set.add(connectionId);
  }

  async disconnected(userId: string, connectionId: string): Promise<void> {
    const set = this.connections.get(userId);
    if (!set) return;
    set.delete(connectionId);
    if (set.size === 0) this.connections.delete(userId);
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.connections.has(id)));
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
