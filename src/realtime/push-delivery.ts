import type { NodeMailbox } from '../adapters/mailbox/mailbox.js';
import type { Presence } from '../adapters/presence/presence.js';
import type { FanoutJob, GroupFanoutJobs } from './fanout-jobs.js';
import type { ConversationAudience, LocalSockets } from './local-sockets.js';
import { OutboundFrame } from './outbound-frame.js';
import { PushRepair, resyncFrame } from './push-repair.js';
import { encodePush, type ServerPush } from './server-push.js';

export interface PushOptions {
  /** The connection that caused the push (it already knows): left out. */
  exceptConnectionId?: string;
}

/**
 * The one way a push leaves the server: every server push goes through here,
 * whether its recipients are connected to this process or to other gateways.
 * Each push is encoded once, whatever the number of recipients and gateways.
 */
export interface PushDelivery {
  /**
   * False when no socket anywhere would get a push to these users now (one process,
   * none of them connected there but `exceptConnectionId`): the caller may skip
   * building it. True whenever it cannot tell (other processes may hold them).
   */
  mayReach(userIds: readonly string[], exceptConnectionId?: string): boolean;
  /** Every live connection of these users. Returns how many sockets of this process got it. */
  toUsers(userIds: readonly string[], push: ServerPush, options?: PushOptions): Promise<number>;
  /**
   * `toUsers` done before it returns, when every socket there is belongs to this
   * process (one node): how many sockets got the push. Undefined, nothing sent, when
   * other processes may hold some of them: `toUsers` routes those. Local sockets meet
   * no outage (nothing is read or queued), so this needs no retry either.
   */
  toUsersNow?(
    userIds: readonly string[],
    push: ServerPush,
    exceptConnectionId?: string,
  ): number | undefined;
  /**
   * Runs `work`; what it delivers to this process's sockets before it returns leaves in
   * one write per socket (LocalSockets.together), when it returns.
   */
  together?<T>(work: () => T): T;
  /**
   * Every participant of a group conversation who may see `seq` (joined before
   * it; `Number.MAX_SAFE_INTEGER` for everyone there now), read batch by batch.
   * Large audiences go to the fan-out workers when the bus is shared.
   */
  toConversation(
    conversationId: string,
    seq: number,
    push: ServerPush,
    options?: PushOptions,
  ): Promise<void>;
}

/** What travels through a gateway's mailbox. */
export interface MailboxPush {
  u: string[];
  f: string;
  x?: string;
}

export interface RoutedPushDeliveryDeps {
  nodeId: string;
  presence: Presence;
  mailbox: NodeMailbox;
  /** This process's sockets, when it runs the gateway role. */
  local?: LocalSockets;
  /** Group audiences, read `batchSize` users at a time. */
  audience: ConversationAudience;
  batchSize: number;
  /** Across processes: groups with more recipients than `workerFanoutMin` go to workers. */
  jobs?: GroupFanoutJobs;
  workerFanoutMin?: number;
  onPush?: (count: number) => void;
  /** Recipients whose push could not be routed (they will be told to resync). */
  onUnrouted?: (count: number) => void;
  /** Unrouted recipients told to resync. */
  onResyncTold?: (count: number) => void;
  /** Unrouted recipients forgotten because too many were waiting (their next push repairs them). */
  onRepairDropped?: (count: number) => void;
  /** How often to retry telling unrouted recipients to resync. */
  repairRetryMs?: number;
}

/**
 * Delivery by presence routes: users connected to this process get the frame
 * directly, first and without asking presence; for every other gateway holding
 * some of them, one mailbox message carries the frame and that gateway's share
 * of the users. Gateways holding none of the recipients hear nothing, and no
 * gateway hears a push twice, so each socket gets it once.
 *
 * When presence or the mailbox cannot be reached, local sockets still get their
 * push; the other recipients are remembered and told to resync (PushRepair) once
 * routing works again.
 */
export class RoutedPushDelivery implements PushDelivery {
  readonly repair: PushRepair;

  constructor(private readonly deps: RoutedPushDeliveryDeps) {
    this.repair = new PushRepair({
      tell: (userIds) => this.tellToResync(userIds),
      retryMs: deps.repairRetryMs ?? 1_000,
      maxUsers: 100_000,
      onTold: deps.onResyncTold,
      onDropped: deps.onRepairDropped,
    });
  }

  mayReach(userIds: readonly string[], exceptConnectionId?: string): boolean {
    const { local, presence } = this.deps;
    if (!local || !presence.thisNodeOnly) return true;
    return local.reaches(userIds, exceptConnectionId);
  }

  together<T>(work: () => T): T {
    const { local } = this.deps;
    return local?.together ? local.together(work) : work();
  }

  async toUsers(
    userIds: readonly string[],
    push: ServerPush,
    options: PushOptions = {},
  ): Promise<number> {
    const { exceptConnectionId } = options;
    return (
      this.toUsersNow(userIds, push, exceptConnectionId) ??
      this.frameToUsers(userIds, encodePush(push), exceptConnectionId)
    );
  }

  toUsersNow(
    userIds: readonly string[],
    push: ServerPush,
    exceptConnectionId?: string,
  ): number | undefined {
    const { local, presence, onPush } = this.deps;
    if (!local || !presence.thisNodeOnly) return undefined;
    // Every socket is here: the push is encoded only if one of them gets it (a
    // sender's `conversation.updated` usually has no other device to go to).
    const count = local.deliver(userIds, () => encodePush(push), exceptConnectionId);
    onPush?.(count);
    return count;
  }

  async toConversation(
    conversationId: string,
    seq: number,
    push: ServerPush,
    options: PushOptions = {},
  ): Promise<void> {
    const frame = encodePush(push);
    const { exceptConnectionId } = options;
    const { jobs, workerFanoutMin = 0, audience } = this.deps;
    if (!jobs) return this.frameToConversation({ conversationId, seq, frame, exceptConnectionId });
    const head = await audience.audience(conversationId, seq, undefined, workerFanoutMin + 1);
    if (head.length > workerFanoutMin) {
      await jobs.enqueue({ conversationId, seq, frame, exceptConnectionId });
    } else {
      await this.frameToUsers(head, frame, exceptConnectionId);
    }
  }

  /** Worker role: runs a group fan-out job (the frame was encoded by whoever queued it). */
  runJob(job: FanoutJob): Promise<void> {
    return this.frameToConversation(job);
  }

  private async frameToConversation(job: FanoutJob): Promise<void> {
    const { audience, batchSize } = this.deps;
    // One frame for every batch of the audience: its UTF-8 and WebSocket bytes are made
    // for the first socket that gets it, then written as they are to every other one
    // (a group of 10,000 read 500 at a time would otherwise encode it 20 times).
    const frame = new OutboundFrame(job.frame);
    let after: string | undefined;
    for (;;) {
      const ids = await audience.audience(job.conversationId, job.seq, after, batchSize);
      if (ids.length > 0) await this.frameToUsers(ids, frame, job.exceptConnectionId);
      if (ids.length < batchSize) return;
      after = ids[ids.length - 1];
    }
  }

  private async frameToUsers(
    userIds: readonly string[],
    frame: string | OutboundFrame,
    exceptConnectionId?: string,
  ): Promise<number> {
    const { onPush, onUnrouted } = this.deps;
    const { local, presence } = this.deps;
    const count = local?.deliver(userIds, frame, exceptConnectionId) ?? 0;
    onPush?.(count);
    // One node, its sockets served above: asking presence for routes would only name it.
    if (local && presence.thisNodeOnly) return count;
    const text = typeof frame === 'string' ? frame : frame.text;
    const unrouted = await this.toOtherNodes(userIds, text, exceptConnectionId);
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
  sockets: LocalSockets,
  hooks: { onPush?: (count: number) => void; onGap?: () => void } = {},
): Promise<void> {
  await mailbox.listen(
    nodeId,
    (raw) => {
      const push = JSON.parse(raw) as MailboxPush;
      const count = sockets.deliver(push.u, push.f, push.x);
      hooks.onPush?.(count);
    },
    hooks.onGap,
  );
}
