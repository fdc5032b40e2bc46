import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DropReason, LogSink } from '../shared/log-sink.js';

/**
 * Prometheus metrics of one app instance. A registry per instance (not the global
 * one) keeps several apps in one test process from colliding.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'easychat_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly httpErrors = new Counter({
    name: 'easychat_http_server_errors_total',
    help: 'HTTP responses with a 5xx status',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  constructor(defaultLabels: Record<string, string>) {
    this.registry.setDefaultLabels(defaultLabels);
    collectDefaultMetrics({ register: this.registry, prefix: 'easychat_' });
  }

  /** Exposes the log lines a sink dropped (output closed, or its reader stalled). */
  countDroppedLogLines(sink: LogSink): void {
    const reasons: DropReason[] = ['closed', 'backlog'];
    new Counter({
      name: 'easychat_log_lines_dropped_total',
      help: 'Log lines dropped because the log output was closed (EPIPE) or not read (backlog)',
      labelNames: ['reason'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const reason of reasons) this.inc({ reason }, sink.droppedLines(reason));
      },
    });
  }

  /** Times every request by its route pattern (not the raw URL, which would explode labels). */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = String(reply.statusCode);
      this.httpDuration.observe(
        { method: request.method, route, status },
        reply.elapsedTime / 1000,
      );
      if (reply.statusCode >= 500) this.httpErrors.inc({ route });
    });
  }
}
