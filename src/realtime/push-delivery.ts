import type { NodeMailbox } from '../adapters/mailbox/mailbox.js';
import type { Presence } from '../adapters/presence/presence.js';
import type { ConnectionRegistry } from '../gateway/connection-registry.js';
import { PushRepair, resyncFrame } from './push-repair.js';

/**
 * Puts a serialized server frame on every live connection of some users, on
 * whichever gateways hold them.
 */
export interface PushDelivery {
  /** Returns how many sockets of this process the frame was queued on. */
  toUsers(userIds: readonly string[], frame: string, exceptConnectionId?: string): Promise<number>;
}

/** What travels through a gateway's mailbox. */
interface MailboxPush {
  u: string[];
  f: string;
  x?: string;
}

/**
 * Delivery by presence routes: users connected to this process get the frame
 * directly, first and without asking presence; for every other gateway holding
 * some of them, one mailbox message carries the frame and that gateway's share
 * of the users. Gateways holding none of the recipients hear nothing.
 *
 * When presence or the mailbox cannot be reached, local sockets still get their
 * push; the other recipients are remembered and told to resync (PushRepair) once
 * routing works again.
 */
export class RoutedPushDelivery implements PushDelivery {
  readonly repair: PushRepair;

  constructor(
    private readonly deps: {
      nodeId: string;
      presence: Presence;
      mailbox: NodeMailbox;
      /** This process's sockets, when it runs the gateway role. */
      local?: ConnectionRegistry;
      onPush?: (count: number) => void;
      /** Recipients whose push could not be routed (they will be told to resync). */
      onUnrouted?: (count: number) => void;
      /** Unrouted recipients told to resync. */
      onResyncTold?: (count: number) => void;
      /** Unrouted recipients forgotten because too many were waiting (their next push repairs them). */
      onRepairDropped?: (count: number) => void;
      /** How often to retry telling unrouted recipients to resync. */
      repairRetryMs?: number;
    },
  ) {
    this.repair = new PushRepair({
      tell: (userIds) => this.tellToResync(userIds),
      retryMs: deps.repairRetryMs ?? 1_000,
      maxUsers: 100_000,
      onTold: deps.onResyncTold,
      onDropped: deps.onRepairDropped,
    });
  }

  async toUsers(userIds: readonly string[], frame: string, exceptConnectionId?: string) {
    const { onPush, onUnrouted } = this.deps;
    const count = this.deps.local?.deliver(userIds, frame, exceptConnectionId) ?? 0;
    onPush?.(count);
    const unrouted = await this.toOtherNodes(userIds, frame, exceptConnectionId);
    if (unrouted.length > 0) {
      onUnrouted?.(unrouted.length);
      this.repair.missed(unrouted);
    }
    return count;
  }

  /** Sends the frame to every other gateway holding some of these users; returns the users it could not reach. */
  private async toOtherNodes(
    userIds: readonly string[],
    frame: string,
    exceptConnectionId?: string,
  ): Promise<string[]> {
    const { nodeId, presence, mailbox, local } = this.deps;
    let routes: Map<string, string[]>;
    try {
      routes = await presence.routes(userIds);
    } catch {
      return [...userIds];
    }
    const unrouted: string[] = [];
    for (const [node, users] of routes) {
      if (local && node === nodeId) continue;
      const push: MailboxPush = {
        u: users,
        f: frame,
        ...(exceptConnectionId ? { x: exceptConnectionId } : {}),
      };
      try {
        await mailbox.send(node, JSON.stringify(push));
      } catch {
        unrouted.push(...users);
      }
    }
    return unrouted;
  }

  private async tellToResync(userIds: string[]): Promise<void> {
    const unrouted = await this.toOtherNodes(userIds, resyncFrame());
    if (unrouted.length === userIds.length) throw new Error('routing is still unavailable');
    if (unrouted.length > 0) this.repair.missed(unrouted);
  }
}

/** Gateway side: delivers what other processes routed to this node. */
export async function receivePushes(
  mailbox: NodeMailbox,
  nodeId: string,
  registry: ConnectionRegistry,
  hooks: { onPush?: (count: number) => void; onGap?: () => void } = {},
): Promise<void> {
  await mailbox.listen(
    nodeId,
    (raw) => {
      const push = JSON.parse(raw) as MailboxPush;
      const count = registry.deliver(push.u, push.f, push.x);
      hooks.onPush?.(count);
    },
    hooks.onGap,
  );
}
