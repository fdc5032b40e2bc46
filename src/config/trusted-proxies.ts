import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';

/** Address groups Fastify (proxy-addr) knows by name. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `server.trustProxy` as a list of proxy addresses, CIDR ranges or named ranges.
 * Only requests whose socket comes from one of them have X-Forwarded-For read, and
 * then only up to the first address that is not a listed proxy, so a client cannot
 * choose its own address by sending the header. Accepts a YAML list or a comma list
 * (`EC_SERVER__TRUST_PROXY=10.0.0.5,10.1.0.0/16`); `false` means none. `true` (trust
 * any sender) is refused: it let a rotating header escape every per-address limit.
 */
export function parseTrustedProxies(value: unknown): string[] {
  if (value === undefined || value === false || value === 'false' || value === '') return [];
  if (value === true || value === 'true') {
    throw new ConfigError(
      'server.trustProxy: true would let any client choose its address with X-Forwarded-For; ' +
        'list the addresses or CIDR ranges of your proxies instead (e.g. [10.0.0.5, 10.1.0.0/16])',
    );
  }
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list)) {
    throw new ConfigError('server.trustProxy: must be a list of proxy addresses or CIDR ranges');
  }
  const entries = list.map((entry) => String(entry).trim()).filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!isProxyEntry(entry)) {
      throw new ConfigError(
        `server.trustProxy: "${entry}" is not an IP address, a CIDR range or one of ` +
          `${[...NAMED_RANGES].join(', ')}`,
      );
    }
  }
  return entries;
}

function isProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  return /^\d+$/.test(bits) && prefix <= (family === 4 ? 32 : 128);
}
