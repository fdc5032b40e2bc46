import type { NodeMailbox } from '../adapters/mailbox/mailbox.js';
import type { Presence } from '../adapters/presence/presence.js';
import type { ConnectionRegistry } from '../gateway/connection-registry.js';

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
 * directly; for every other gateway holding some of them, one mailbox message
 * carries the frame and that gateway's share of the users. Gateways holding
 * none of the recipients hear nothing.
 */
export class RoutedPushDelivery implements PushDelivery {
  constructor(
    private readonly deps: {
      nodeId: string;
      presence: Presence;
      mailbox: NodeMailbox;
      /** This process's sockets, when it runs the gateway role. */
      local?: ConnectionRegistry;
      onPush?: (count: number) => void;
    },
  ) {}

  async toUsers(userIds: readonly string[], frame: string, exceptConnectionId?: string) {
    const { nodeId, presence, mailbox, local } = this.deps;
    let count = 0;
    for (const [node, users] of await presence.routes(userIds)) {
      if (node === nodeId && local) {
        count += local.deliver(users, frame, exceptConnectionId);
      } else {
        const push: MailboxPush = {
          u: users,
          f: frame,
          ...(exceptConnectionId ? { x: exceptConnectionId } : {}),
        };
        await mailbox.send(node, JSON.stringify(push));
      }
    }
    this.deps.onPush?.(count);
    return count;
  }
}

/** Gateway side: delivers what other processes routed to this node. */
export async function receivePushes(
  mailbox: NodeMailbox,
  nodeId: string,
  registry: ConnectionRegistry,
  onPush?: (count: number) => void,
): Promise<void> {
  await mailbox.listen(nodeId, (raw) => {
    const push = JSON.parse(raw) as MailboxPush;
    const count = registry.deliver(push.u, push.f, push.x);
    onPush?.(count);
  });
}
