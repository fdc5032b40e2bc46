/** Raised when configuration cannot be used; the message names the offending key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
