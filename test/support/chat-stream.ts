import type { WsClient, Frame } from './ws-client.js';

/** Where a fault test's messages go: a private chat with `recvId`, or a group. */
export interface ChatTarget {
  chatType: 1 | 2;
  recvId: string;
}

/**
 * A sender that keeps sending chat messages through a socket, one at a time,
 * and records which were acknowledged (stored: the server answered with a seq)
 * and how the others failed (error code, or `timeout`). Faults are injected
 * while it runs; afterwards, every acknowledged message must have reached
 * every recipient.
 */
export class ChatStream {
  /** clientMsgId → seq of every acknowledged message. */
  readonly acked = new Map<string, number>();
  /** Error code (or "timeout") → how many sends failed with it. */
  readonly failures = new Map<string, number>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private n = 0;

  constructor(
    private readonly socket: () => WsClient,
    private readonly target: ChatTarget,
    private readonly options: { label: string; intervalMs?: number; timeoutMs?: number },
  ) {}

  start(): this {
    this.running ??= this.loop();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Sends one message now; resolves with its seq, or undefined when it was not acknowledged. */
  async sendOne(): Promise<number | undefined> {
    this.n += 1;
    const clientMsgId = `${this.options.label}-${this.n}`;
    const answer = await this.socket()
      .request(
        'conversation.chat',
        { ...this.target, clientMsgId, msg: { mType: 0, content: clientMsgId } },
        this.options.timeoutMs ?? 5_000,
      )
      .catch(() => undefined);
    if (answer?.frameType === 2) {
      this.acked.set(clientMsgId, answer.data.seq as number);
      return answer.data.seq as number;
    }
    const reason = answer ? String(answer.data?.code) : 'timeout';
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
    return undefined;
  }

  get ackedSeqs(): number[] {
    return [...this.acked.values()].sort((a, b) => a - b);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.sendOne();
      await new Promise((r) => setTimeout(r, this.options.intervalMs ?? 20));
    }
  }
}

/**
 * A recipient that behaves as the protocol asks a client to (docs/websocket.md):
 * it keeps live pushes, syncs a conversation when a push skips a seq, and syncs
 * every conversation it follows when the server says pushes may have been missed
 * (`session.resync`). It never syncs on its own, so what it ends up holding shows
 * whether the server told it enough.
 */
export class FollowingClient {
  readonly live = new Set<number>();
  readonly synced = new Set<number>();
  /** `session.resync` hints received. */
  hints = 0;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: WsClient,
    private readonly conversationId: string,
  ) {
    socket.onFrame((frame) => this.receive(frame));
  }

  /** Every seq held, live or synced. */
  get seqs(): Set<number> {
    return new Set([...this.live, ...this.synced]);
  }

  /** Resolves when no sync is running. */
  async idle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.syncing;
      await current;
    } while (current !== this.syncing);
  }

  private receive(frame: Frame): void {
    if (frame.method === 'session.resync') {
      this.hints += 1;
      this.sync();
      return;
    }
    if (frame.method !== 'push' || frame.data?.contentType !== 0) return;
    if (frame.data.conversationId !== this.conversationId) return;
    const seq = frame.data.seq as number;
    const gap = seq > this.contiguous() + 1;
    this.live.add(seq);
    if (gap) this.sync();
  }

  /** The last seq up to which every message is held. */
  private contiguous(): number {
    const held = this.seqs;
    let last = 0;
    while (held.has(last + 1)) last += 1;
    return last;
  }

  private sync(): void {
    this.syncing = this.syncing.then(async () => {
      let from = this.contiguous();
      for (;;) {
        const answer = await this.socket
          .call('conversation.sync', { conversations: { [this.conversationId]: from } })
          .catch(() => undefined);
        const page = answer?.conversations?.[this.conversationId];
        if (!page) return;
        for (const m of page.messages as Array<{ seq: number }>) this.synced.add(m.seq);
        if (!page.hasMore || page.messages.length === 0) return;
        from = page.messages[page.messages.length - 1].seq;
      }
    });
  }
}
