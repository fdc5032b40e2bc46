import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JWT_SECRET } from './config.schema.js';
import { ConfigError, loadConfig } from './load-config.js';

const yamlFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'ec-config-')), 'c.yaml');
  writeFileSync(path, text);
  return path;
};

describe('loadConfig', () => {
  it('layers default.yaml, the environment file, --config, then variables', () => {
    const file = yamlFile('server:\n  port: 7000\nuser:\n  searchLimit: 5\n');
    const config = loadConfig({
      env: 'test',
      file,
      environment: { PORT: '7100', EC_USER__MAX_IDS_PER_QUERY: '7' },
    });
    expect(config.env).toBe('test');
    expect(config.log.level).toBe('silent'); // from test.yaml
    expect(config.server.port).toBe(7100); // PORT beats the file
    expect(config.user.searchLimit).toBe(5); // from the file
    expect(config.user.maxIdsPerQuery).toBe(7); // EC_ path, converted to a number
    expect(config.auth.tokenTtlSec).toBe(604800); // untouched default
  });

  it('maps the conventional variables', () => {
    const config = loadConfig({
      env: 'development',
      environment: {
        DATA_DIR: '/tmp/ec-data',
        DATABASE_URL: 'postgres://db/x',
        REDIS_URL: 'redis://r:6379',
        JWT_SECRET: 's'.repeat(40),
        LOG_LEVEL: 'warn',
        EC_ROLES: 'api,worker',
        EC_SERVER__TRUST_PROXY: 'true',
      },
    });
    expect(config.dataDir).toBe('/tmp/ec-data');
    expect(config.storage.postgres.url).toBe('postgres://db/x');
    expect(config.cache.redis.url).toBe('redis://r:6379');
    expect(config.auth.jwtSecret).toBe('s'.repeat(40));
    expect(config.log.level).toBe('warn');
    expect(config.roles).toEqual(['api', 'worker']);
    expect(config.server.trustProxy).toBe(true);
    expect(config.nodeId).toMatch(/-\d+$/);
  });

  it('names every bad key in one message', () => {
    const attempt = () =>
      loadConfig({
        env: 'test',
        environment: { PORT: 'eighty', EC_STORAGE__DRIVER: 'oracle', EC_AUTH__TOKEN_TTL: '5' },
      });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toContain('server.port');
    expect(message).toContain('storage.driver');
    expect(message).toContain('auth.tokenTtl: unknown key');
  });

  it('refuses a missing --config file, bad YAML and an unknown environment', () => {
    expect(() => loadConfig({ env: 'test', environment: {}, file: '/nonexistent/x.yaml' })).toThrow(
      /config file not found/,
    );
    expect(() =>
      loadConfig({ env: 'test', environment: {}, file: yamlFile('server: [unclosed') }),
    ).toThrow(/not valid YAML/);
    expect(() => loadConfig({ env: 'staging', environment: {} })).toThrow(/unknown environment/);
  });

  it('production refuses the default secret and short secrets, and accepts a strong one', () => {
    expect(() => loadConfig({ env: 'production', environment: {} })).toThrow(/auth\.jwtSecret/);
    expect(() =>
      loadConfig({ env: 'production', environment: { JWT_SECRET: DEFAULT_JWT_SECRET } }),
    ).toThrow(/auth\.jwtSecret/);
    expect(() =>
      loadConfig({ env: 'production', environment: { JWT_SECRET: 'short-secret' } }),
    ).toThrow(/at least 32/);
    const ok = loadConfig({ env: 'production', environment: { JWT_SECRET: 'x'.repeat(32) } });
    expect(ok.env).toBe('production');
  });

  it('keeps config/production.example.yaml valid', () => {
    const config = loadConfig({
      env: 'production',
      environment: {},
      file: new URL('../../config/production.example.yaml', import.meta.url).pathname,
    });
    expect(config.storage.driver).toBe('postgres');
    expect(config.cache.driver).toBe('redis');
  });
});

describe('event layer settings', () => {
  it('reads broker URLs and the admin token from short variables', () => {
    const config = loadConfig({
      env: 'test',
      environment: {
        NATS_URL: 'nats://nats.internal:4222',
        AMQP_URL: 'amqp://u:p@rabbit:5672',
        ADMIN_TOKEN: 'a-token',
        EC_BUS__DRIVER: 'rabbitmq',
        EC_INGEST__SOURCES__CRM__SECRET: 'crm-secret-0123456789',
        EC_INGEST__SOURCES__CRM__TYPES: '[user-disabled]',
      },
    });
    expect(config.bus).toMatchObject({
      driver: 'rabbitmq',
      nats: { url: 'nats://nats.internal:4222' },
      rabbitmq: { url: 'amqp://u:p@rabbit:5672' },
    });
    expect(config.admin.token).toBe('a-token');
    expect(config.ingest.sources).toEqual({
      crm: { secret: 'crm-secret-0123456789', types: ['user-disabled'] },
    });
  });

  it('refuses an unknown bus driver and short ingest secrets', () => {
    expect(() => loadConfig({ env: 'test', environment: { EC_BUS__DRIVER: 'kafka' } })).toThrow(
      /bus\.driver/,
    );
    expect(() =>
      loadConfig({
        env: 'test',
        overrides: { ingest: { sources: { x: { secret: 'short', types: [] } } } },
      }),
    ).toThrow(/ingest\.sources\.x\.secret/);
  });

  it('takes topic names and codecs, refusing an unknown codec and names that collide', () => {
    const config = loadConfig({
      env: 'test',
      environment: { EC_BUS__TOPICS__NOTIFY__CODEC: 'protobuf' },
      overrides: { bus: { topics: { notify: { name: 'notify_topic' }, log: { consume: false } } } },
    });
    expect(config.bus.topics).toEqual({
      notify: { name: 'notify_topic', codec: 'protobuf', consume: true },
      log: { name: 'log', codec: 'json', consume: false },
    });
    const topics =
      (notify: string, log: string, codec = 'json') =>
      () =>
        loadConfig({
          env: 'test',
          overrides: { bus: { topics: { notify: { name: notify, codec }, log: { name: log } } } },
        } as Parameters<typeof loadConfig>[0]);
    expect(topics('notify', 'log', 'avro')).toThrow(/bus\.topics\.notify\.codec/);
    expect(topics('same', 'same')).toThrow(
      /bus\.topics\.log\.name: "same" is taken by bus\.topics\.notify/,
    );
    expect(topics('domain', 'log')).toThrow(/"domain" is taken by the domain topic/);
    expect(topics('notify', 'dlq')).toThrow(/"dlq" is taken by the dead letters/);
    expect(topics('notify.x', 'log')).toThrow(/bus\.topics\.notify\.name/);
  });

  it('production refuses a short admin token or ingest secret', () => {
    const base = { JWT_SECRET: 'x'.repeat(32) };
    expect(() =>
      loadConfig({ env: 'production', environment: { ...base, ADMIN_TOKEN: 'short-admin-token' } }),
    ).toThrow(/admin\.token/);
    expect(() =>
      loadConfig({
        env: 'production',
        environment: base,
        overrides: { ingest: { sources: { crm: { secret: 's'.repeat(20), types: ['*'] } } } },
      }),
    ).toThrow(/ingest\.sources\.crm\.secret/);
    expect(
      loadConfig({ env: 'production', environment: { ...base, ADMIN_TOKEN: 'a'.repeat(32) } }).admin
        .token,
    ).toHaveLength(32);
  });
});
