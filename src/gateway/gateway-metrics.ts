import { Counter, Gauge, type Registry } from 'prom-client';
import { BufferedCounter } from '../shared/buffered-counter.js';

/** Gateway counters, registered on the app's metrics registry. */
export class GatewayMetrics {
  readonly connections: Gauge;
  /** Every frame in counts here: buffered (BufferedCounter). */
  readonly framesIn: BufferedCounter<'type'>;
  /** Every push to a socket counts here: buffered. */
  readonly pushes: BufferedCounter;
  readonly closes: Counter<'code'>;
  readonly unrouted: Counter;
  readonly resyncHints: Counter<'scope'>;

  /**
   * `open` is the gateway's connection registry: the gauge reads its size when
   * scraped, so no path that adds or drops a connection (a close, an eviction by a
   * newer device) can leave it counting wrong.
   */
  constructor(registry: Registry, open: { readonly size: number }) {
    const registers = [registry];
    this.connections = new Gauge({
      name: 'easychat_ws_connections',
      help: 'Open authenticated WebSocket connections on this gateway',
      registers,
      collect() {
        this.set(open.size);
      },
    });
    this.framesIn = new BufferedCounter({
      name: 'easychat_ws_frames_in_total',
      help: 'Frames received, by outcome',
      labelNames: ['type'] as const,
      registers,
    });
    this.pushes = new BufferedCounter({
      name: 'easychat_ws_pushes_total',
      help: 'Server frames queued on sockets (one per recipient device)',
      registers,
    });
    this.closes = new Counter({
      name: 'easychat_ws_closes_total',
      help: 'Connections closed, by close code',
      labelNames: ['code'] as const,
      registers,
    });
    this.unrouted = new Counter({
      name: 'easychat_push_unrouted_total',
      help: 'Recipients a push could not be routed to (presence or transport down); told to resync later',
      registers,
    });
    this.resyncHints = new Counter({
      name: 'easychat_push_resync_hints_total',
      help: 'session.resync frames: to unrouted users (users) or to every socket of this gateway after its routing was lost (local)',
      labelNames: ['scope'] as const,
      registers,
    });
  }
}
