import type { Config } from '../config/config.schema.js';

interface ListenError {
  code?: string;
  port?: number;
  address?: string;
}

/**
 * One line for a listen that failed because the port is taken (or not ours to
 * take), naming the port and the setting that moves it; undefined for any other error.
 */
export function describeListenError(err: unknown, config: Config): string | undefined {
  const { code, port, address } = (err ?? {}) as ListenError;
  if (code !== 'EADDRINUSE' && code !== 'EACCES') return undefined;
  const metrics = config.metrics.listener;
  const isMetrics = metrics.enabled && port === metrics.port && port !== config.server.port;
  const where = `${address ?? (isMetrics ? metrics.host : config.server.host)}:${port ?? '?'}`;
  const problem =
    code === 'EADDRINUSE'
      ? `port ${port} is already in use (${where})`
      : `no permission to listen on port ${port} (${where})`;
  const fix = isMetrics
    ? 'set metrics.listener.port in a config file (or EC_METRICS__LISTENER__PORT) to another port'
    : 'set PORT (or server.port in a config file) to another port, e.g. PORT=8081';
  return `easy-chat: ${problem}; ${fix}`;
}
