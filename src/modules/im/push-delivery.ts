import type { ConnectionRegistry } from '../../gateway/connection-registry.js';

/**
 * Puts a serialized server frame on every live connection of some users. On one
 * node that is a registry lookup; across gateways it is routed through the
 * presence store and each gateway's delivery subject.
 */
export interface PushDelivery {
  /** Returns how many sockets the frame was queued on (on this node). */
  toUsers(userIds: readonly string[], frame: string, exceptConnectionId?: string): Promise<number>;
}

/** Delivery within this process: every user's connections are in the local registry. */
export class LocalPushDelivery implements PushDelivery {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly onPush: (count: number) => void = () => undefined,
  ) {}

  async toUsers(userIds: readonly string[], frame: string, exceptConnectionId?: string) {
    const count = this.registry.deliver(userIds, frame, exceptConnectionId);
    this.onPush(count);
    return count;
  }
}
