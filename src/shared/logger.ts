import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { loadWhenUsed } from './load-when-used.js';

export type { Logger };

/**
 * Paths that must never reach a log line. Fastify does not log bodies, but any
 * code that logs an input object is covered too.
 */
const REDACT_PATHS = [
  'password',
  'passwordHash',
  '*.password',
  '*.passwordHash',
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'token',
  '*.token',
];

/** Query parameters hidden in logged URLs (WebSocket clients may pass ?token=). */
const SECRET_QUERY = /([?&](?:token|access_token)=)[^&]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[Redacted]');
}

export function createLogger(
  options: { level: string; nodeId: string },
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level,
      base: { node: options.nodeId },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      formatters: {
        // A logged object's own `msg` would sit next to the line's message as a second
        // "msg" key (JSON readers keep one, dropping the other): keep it as errMsg.
        log: (object) => {
          if (!Object.hasOwn(object, 'msg')) return object;
          const { msg, ...rest } = object;
          return { ...rest, errMsg: msg };
        },
      },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
          method: req.method,
          url: redactUrl(req.url),
          ip: req.ip,
        }),
      },
    },
    destination,
  );
}

/**
 * Readable lines for a person at a terminal, JSON for everything else (log
 * collectors, pipes, files). LOG_FORMAT=pretty or json overrides the guess.
 */
export function wantsPrettyLogs(
  format: string | undefined = process.env.LOG_FORMAT,
  isTTY: boolean = process.stdout.isTTY === true,
): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  return isTTY;
}

/** pino-pretty (to stdout unless told): time, level, message, then the fields. */
export function prettyDestination(destination?: NodeJS.WritableStream): DestinationStream {
  return loadWhenUsed<typeof PinoPretty>('pino-pretty')({
    colorize: destination === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    ...(destination ? { destination } : {}),
  });
}
