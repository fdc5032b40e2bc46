import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';

/** Shortest JWT secret accepted in any mode (HS256 wants at least 256 bits of key). */
export const MIN_SECRET_LENGTH = 32;
/** Fewer distinct characters than this is a pattern ("xxxx…", "abab…"), not a secret. */
const MIN_DISTINCT_CHARACTERS = 8;

/**
 * Secrets that were printed somewhere public: easy-chat's own former default and
 * example, and the placeholders of JWT tutorials. Matched case-insensitively as
 * substrings, so "my-changeme-secret-…" is refused too.
 */
const KNOWN_SECRETS = [
  'easy-chat-development-secret-change-me',
  'replace-with-a-random-string',
  'your-256-bit-secret',
  'change-me',
  'changeme',
  'change_me',
  'replace-me',
  'replace_me',
  'your-secret',
  'your_secret',
  'supersecret',
  'secretkey',
  'secret-key',
  'jwt-secret',
  'jwt_secret',
];

/** Why `secret` must not sign tokens, or undefined when it may. */
export function weakSecretReason(secret: string): string | undefined {
  const lower = secret.toLowerCase();
  const known = KNOWN_SECRETS.find((k) => lower.includes(k));
  if (known) return `it contains the published value "${known}"`;
  if (secret.length < MIN_SECRET_LENGTH)
    return `it is shorter than ${MIN_SECRET_LENGTH} characters`;
  if (new Set(secret).size < MIN_DISTINCT_CHARACTERS) {
    return `it has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`;
  }
  return undefined;
}

/** The file in the data directory that keeps a generated secret. */
export const SECRET_FILE = 'jwt-secret';

export interface ResolvedSecret {
  secret: string;
  /** Where it came from: the configuration, or the file in the data directory. */
  source: 'config' | 'file';
  /** Set when this call created the file. */
  created?: string;
}

/**
 * The JWT secret: the configured one, or else the one kept in `<dataDir>/jwt-secret`,
 * created with 32 random bytes (mode 0600) on first start. Creation is atomic
 * (written to a private temporary file, then hard-linked into place), so processes
 * starting together on one data directory end up with the same secret.
 */
export function resolveJwtSecret(configured: string, dataDir: string): ResolvedSecret {
  if (configured !== '') return { secret: configured, source: 'config' };
  const path = join(dataDir, SECRET_FILE);
  let created: string | undefined;
  try {
    statSync(path);
  } catch {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temporary, `${randomBytes(32).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    try {
      linkSync(temporary, path);
      created = path;
    } catch (err) {
      // Another process linked its file first: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temporary);
    }
  }
  const secret = readFileSync(path, 'utf8').trim();
  const weak = weakSecretReason(secret);
  if (weak) throw new ConfigError(`${path}: the stored JWT secret is unusable: ${weak}`);
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new ConfigError(`${path}: readable by other users; chmod 600 it`);
  }
  return { secret, source: 'file', created };
}
