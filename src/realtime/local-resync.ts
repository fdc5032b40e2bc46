import type { Logger } from '../shared/logger.js';
import type { LocalSockets } from './local-sockets.js';
import { resyncFrame } from './push-repair.js';

/** Changes that arrive together (presence restored and the transport back) make one hint. */
const COALESCE_MS = 250;

/**
 * Tells every socket of this gateway to resync (`session.resync`) after its routing
 * was lost for a while: presence had to be written again (Redis restarted empty or
 * was unreachable) or the push transport reconnected. Other processes could not
 * reach these sockets meanwhile, so their pushes may be missing.
 */
export class LocalResync {
  private timer: NodeJS.Timeout | undefined;
  private readonly reasons = new Set<string>();

  constructor(
    private readonly connections: LocalSockets,
    private readonly logger: Logger,
    private readonly onHint: () => void,
  ) {}

  schedule(reason: string): void {
    this.reasons.add(reason);
    this.timer ??= setTimeout(() => this.send(), COALESCE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private send(): void {
    this.timer = undefined;
    const reasons = [...this.reasons];
    this.reasons.clear();
    const sockets = this.connections.deliver(this.connections.users(), resyncFrame());
    if (sockets > 0) this.onHint();
    this.logger.warn({ reasons, sockets }, 'routing was lost; told every socket to resync');
  }
}
