/**
 * Classifies driver errors so that services and the error mapper can react to
 * them without knowing which engine is underneath.
 */

interface DriverError {
  code?: unknown;
  message?: unknown;
}

/** A UNIQUE or PRIMARY KEY constraint rejected the write (SQLite, PostgreSQL or MySQL). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as DriverError | null)?.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'ER_DUP_ENTRY'
  );
}

/** MySQL's "try the transaction again": it lost a deadlock or waited too long for a lock. */
const MYSQL_CONFLICT = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/**
 * The transaction was aborted only because of concurrent ones (a deadlock, a lock
 * wait timeout, a serialization failure); running it again is expected to work.
 */
export function isTransientConflict(err: unknown): boolean {
  const code = (err as DriverError | null)?.code;
  return (
    typeof code === 'string' && (MYSQL_CONFLICT.has(code) || code === '40001' || code === '40P01')
  );
}

const PG_UNAVAILABLE = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);
const NET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** mysql2 and the server on a connection that broke, a server going away or full. */
const MYSQL_UNAVAILABLE = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR', // too many connections
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED', // MariaDB: the server killed the session
  'ER_CLIENT_INTERACTION_TIMEOUT', // MySQL 8: an idle session was closed
  'ER_QUERY_INTERRUPTED',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);
/** What node-postgres (and mysql2, last line) say when a connection broke or could not be made. */
const PG_CLIENT_UNAVAILABLE = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'is not queryable',
  'Query read timeout',
  "Can't add new command when connection is in closed state",
];

/**
 * The store is temporarily unable to serve (busy, locked, unreachable): the client
 * should retry later, so this maps to 503 / 100004 rather than 500.
 */
export function isStorageUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as DriverError;
  if (typeof code === 'string') {
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_BUSY_'))
      return true;
    if (PG_UNAVAILABLE.has(code) || NET_UNAVAILABLE.has(code) || MYSQL_UNAVAILABLE.has(code))
      return true;
    // Class 08: connection exceptions (the server dropped or refused the session).
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return (
    typeof message === 'string' && PG_CLIENT_UNAVAILABLE.some((text) => message.includes(text))
  );
}

const PG_INVALID_INPUT = new Set([
  '22P05', // untranslatable_character (e.g. \u0000 in text)
  '22021', // character_not_in_repertoire (invalid byte sequence, NUL)
  '22003', // numeric_value_out_of_range (a number past BIGINT)
  '22P02', // invalid_text_representation (e.g. "1e+300" for a BIGINT)
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', // MySQL: "Incorrect string value" (bad UTF-8)
  'ER_DATA_TOO_LONG',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_TRUNCATED_WRONG_VALUE',
]);

/**
 * The store refused a value the client sent (a character or number it cannot hold).
 * The validation layer refuses such input first (src/shared/input-schema.ts); this is
 * the last line, so that what slips past it is a 400, never a 500.
 */
export function isInvalidInput(err: unknown): boolean {
  const code = (err as DriverError | null)?.code;
  return typeof code === 'string' && PG_INVALID_INPUT.has(code);
}
