import { encodePush } from './server-push.js';

/**
 * The `session.resync` push, which tells a client its pushes may have been missed:
 * it should sync every conversation it follows (and refresh the conversation
 * list), as after a reconnect. Sent when routing failed for a while (presence or
 * the push transport unreachable, Redis restarted empty).
 */
export function resyncFrame(): string {
  return encodePush({ method: 'session.resync', data: {} });
}

export interface PushRepairDeps {
  /** Tells these users' sockets (on other gateways) to resync; throws if it cannot yet. */
  tell: (userIds: string[]) => Promise<void>;
  /** How long to wait before (again) trying to tell them. */
  retryMs: number;
  /** Users remembered at most; beyond, they are dropped and counted (their next push or reconnect repairs them). */
  maxUsers: number;
  onTold?: (count: number) => void;
  onDropped?: (count: number) => void;
}

/**
 * Users whose pushes could not be routed. They are told to resync once routing
 * works again, so an outage of presence or of the push transport never leaves a
 * client silently behind: every stored message reaches it live or by that sync.
 */
export class PushRepair {
  private readonly users = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: PushRepairDeps) {}

  get pending(): number {
    return this.users.size;
  }

  missed(userIds: Iterable<string>): void {
    let dropped = 0;
    for (const id of userIds) {
      if (this.users.size >= this.deps.maxUsers && !this.users.has(id)) dropped += 1;
      else this.users.add(id);
    }
    if (dropped > 0) this.deps.onDropped?.(dropped);
    this.schedule();
  }

  /** Tries now (tests, and before shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running ??= this.run().finally(() => (this.running = undefined));
    await this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.timer || this.users.size === 0) return;
    this.timer = setTimeout(() => void this.flush(), this.deps.retryMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const batch = [...this.users];
    if (batch.length === 0) return;
    this.users.clear();
    try {
      await this.deps.tell(batch);
      this.deps.onTold?.(batch.length);
    } catch {
      this.missed(batch);
    }
  }
}
