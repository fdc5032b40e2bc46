import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { ConfigSchema, MIN_PRODUCTION_SECRET_LENGTH, type Config } from './config.schema.js';
import { weakSecretReason } from './jwt-secret.js';
import { parseTrustedProxies } from './trusted-proxies.js';

export { ConfigError };

export interface LoadConfigOptions {
  /** Environment name; defaults to EASY_CHAT_ENV, then NODE_ENV, then development. */
  env?: string;
  /** Extra YAML file (the CLI's --config), merged after the environment file. */
  file?: string;
  /** Environment variables to read overrides from (process.env by default). */
  environment?: NodeJS.ProcessEnv;
  /** Last layer, used by tests and the CLI (e.g. --roles). */
  overrides?: DeepPartial<Config>;
  /** Directory holding default.yaml and <env>.yaml. */
  configDir?: string;
}

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

type Tree = Record<string, unknown>;

const ENVIRONMENTS = ['development', 'test', 'production'] as const;

/** Short, conventional variable names mapped onto config paths. */
const ENV_ALIASES: Record<string, string> = {
  PORT: 'server.port',
  HOST: 'server.host',
  DATA_DIR: 'dataDir',
  LOG_LEVEL: 'log.level',
  NODE_ID: 'nodeId',
  DATABASE_URL: 'storage.postgres.url',
  REDIS_URL: 'cache.redis.url',
  JWT_SECRET: 'auth.jwtSecret',
  NATS_URL: 'bus.nats.url',
  AMQP_URL: 'bus.rabbitmq.url',
  ADMIN_TOKEN: 'admin.token',
  METRICS_TOKEN: 'metrics.token',
};
/** Any key can be set as EC_<PATH>, path segments joined by "__": EC_AUTH__TOKEN_TTL_SEC. */
const ENV_PREFIX = 'EC_';

const defaultConfigDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../config');

/**
 * Builds the configuration from YAML files and environment variables and validates
 * it. Throws ConfigError naming the key when anything is wrong.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const environment = options.environment ?? process.env;
  const configDir = options.configDir ?? environment.EASY_CHAT_CONFIG_DIR ?? defaultConfigDir;
  const envName = options.env ?? environment.EASY_CHAT_ENV ?? environment.NODE_ENV ?? 'development';
  if (!(ENVIRONMENTS as readonly string[]).includes(envName)) {
    throw new ConfigError(`env: unknown environment "${envName}" (use ${ENVIRONMENTS.join(', ')})`);
  }

  const merged: Tree = {};
  deepMerge(merged, readYaml(resolve(configDir, 'default.yaml'), true));
  deepMerge(merged, readYaml(resolve(configDir, `${envName}.yaml`), false));
  merged.env = envName;
  if (options.file) deepMerge(merged, readYaml(resolve(options.file), true));
  deepMerge(merged, overridesFromEnvironment(environment));
  if (options.overrides) deepMerge(merged, options.overrides);
  // Roles given as a comma list (EC_ROLES=api,gateway or --roles api,gateway).
  if (typeof merged.roles === 'string') merged.roles = merged.roles.split(',').map((r) => r.trim());
  if (isTree(merged.server))
    merged.server.trustProxy = parseTrustedProxies(merged.server.trustProxy);

  const converted = Value.Convert(ConfigSchema, merged);
  const errors = Value.Errors(ConfigSchema, converted);
  if (errors.length > 0) {
    const lines = errors.flatMap((e) => {
      // A forbidden extra key is reported twice (once as "schema is false"); keep one line.
      if (e.keyword === 'boolean') return [];
      if (e.keyword === 'additionalProperties') {
        const { additionalProperties } = e.params;
        return additionalProperties.map(
          (key) => `${pathOf(`${e.instancePath}/${key}`)}: unknown key`,
        );
      }
      return [`${pathOf(e.instancePath)}: ${e.message}`];
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const config = converted as Config;
  finalize(config);
  return config;
}

function finalize(config: Config): void {
  checkTopicNames(config);
  const secret = config.auth.jwtSecret;
  // Empty means "generate one into dataDir" (src/config/jwt-secret.ts), except in
  // production, where several processes must share one secret the operator chose.
  const weak = secret === '' ? undefined : weakSecretReason(secret);
  if (weak) {
    throw new ConfigError(
      `auth.jwtSecret: refused because ${weak}; set JWT_SECRET to 32+ random characters ` +
        '(openssl rand -hex 32) or leave it empty to have one generated',
    );
  }
  if (config.env === 'production') {
    if (secret === '') {
      throw new ConfigError(
        'auth.jwtSecret: production needs a secret of at least 32 random characters, shared ' +
          'by every process (set JWT_SECRET, e.g. openssl rand -hex 32)',
      );
    }
    for (const [key, token] of [
      ['admin.token', config.admin.token],
      ['metrics.token', config.metrics.token],
    ] as const) {
      if (token !== '' && token.length < MIN_PRODUCTION_SECRET_LENGTH) {
        throw new ConfigError(
          `${key}: production needs at least ${MIN_PRODUCTION_SECRET_LENGTH} characters (or empty to disable)`,
        );
      }
    }
    for (const [name, source] of Object.entries(config.ingest.sources)) {
      if (source.secret.length < MIN_PRODUCTION_SECRET_LENGTH) {
        throw new ConfigError(
          `ingest.sources.${name}.secret: production needs at least ${MIN_PRODUCTION_SECRET_LENGTH} characters`,
        );
      }
    }
  }
  config.dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(config.dataDir);
  if (config.nodeId === '') config.nodeId = `${hostname()}-${process.pid}`;
}

function readYaml(path: string, required: boolean): Tree {
  if (!existsSync(path)) {
    if (required) throw new ConfigError(`config file not found: ${path}`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`${path}: the top level must be a mapping of keys`);
  }
  return parsed as Tree;
}

function overridesFromEnvironment(environment: NodeJS.ProcessEnv): Tree {
  const out: Tree = {};
  for (const [name, raw] of Object.entries(environment)) {
    if (raw === undefined || raw === '') continue;
    let path = ENV_ALIASES[name];
    // One DATABASE_URL for either server: its scheme says which one it is for.
    if (name === 'DATABASE_URL' && /^(mysql|mariadb):/i.test(raw)) path = 'storage.mysql.url';
    if (!path && name.startsWith(ENV_PREFIX)) {
      path = name.slice(ENV_PREFIX.length).split('__').map(snakeToCamel).join('.');
    }
    if (path) setPath(out, path, parseEnvValue(raw));
  }
  return out;
}

/** Lists are written as YAML flow sequences or comma lists ("api,gateway"). */
function parseEnvValue(raw: string): unknown {
  if (raw.startsWith('[')) {
    try {
      return parseYaml(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

function snakeToCamel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

function deepMerge(target: Tree, source: Tree): Tree {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    if (isTree(value) && isTree(current)) deepMerge(current, value);
    else target[key] = isTree(value) ? deepMerge({}, value) : value;
  }
  return target;
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pathOf(instancePath: string): string {
  const path = instancePath.replace(/^\//, '').split('/').join('.');
  return path === '' ? '(root)' : path;
}

/** Topic names on the broker must not collide with each other, the domain topic or dead letters. */
function checkTopicNames(config: Config): void {
  const taken = new Map([
    ['domain', 'the domain topic'],
    ['dlq', 'the dead letters'],
  ]);
  for (const [topic, { name }] of Object.entries(config.bus.topics)) {
    const owner = taken.get(name);
    if (owner) throw new ConfigError(`bus.topics.${topic}.name: "${name}" is taken by ${owner}`);
    taken.set(name, `bus.topics.${topic}`);
  }
}
