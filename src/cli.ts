#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createApp } from './app/create-app.js';
import { ALL_ROLES, type Role } from './config/config.schema.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { IMPORT_USAGE, importCommand } from './import/import-command.js';

const USAGE = `usage: easy-chat start [--roles api,gateway,worker] [--config FILE]
       easy-chat import go-easy-chat --from mysql://… (see easy-chat import --help)

  --roles    roles this process runs (default: all of ${ALL_ROLES.join(', ')})
  --config   YAML file merged over config/default.yaml and config/<env>.yaml

Environment: PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, JWT_SECRET, LOG_LEVEL,
EASY_CHAT_ENV (development | test | production), and EC_<PATH> for any key
(e.g. EC_STORAGE__DRIVER=postgres). See docs/configuration.md.`;

/** Time after the request drain (server.shutdownTimeoutMs) to close adapters before exiting anyway. */
const CLOSE_GRACE_MS = 5_000;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'import') {
    if (existsSync('.env')) process.loadEnvFile('.env');
    if (argv.length === 1) {
      console.log(IMPORT_USAGE);
      return 2;
    }
    return importCommand(argv);
  }
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      roles: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'start') {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }

  // A .env file in the working directory fills in variables not already set.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const roles = values.roles?.split(',').map((r) => r.trim()) as Role[] | undefined;
  const config = loadConfig({ file: values.config, overrides: roles ? { roles } : undefined });
  const app = await createApp(config);
  await app.start();

  // A promise nobody awaited must not take every socket of this process down with it.
  process.on('unhandledRejection', (err) => {
    app.logger.error({ err }, 'unhandled promise rejection (a bug; the process keeps running)');
  });

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      app.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    app.logger.info({ signal }, 'shutting down');
    // Requests drain for up to shutdownTimeoutMs; closing the connections to the
    // servers gets a little more. Whatever still hangs then (a server that does not
    // answer), the process exits.
    const deadlineMs = config.server.shutdownTimeoutMs + CLOSE_GRACE_MS;
    setTimeout(() => {
      app.logger.error({ deadlineMs }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, deadlineMs).unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(`easy-chat: ${err.message}`);
    } else {
      console.error('easy-chat: failed to start:', err);
    }
    process.exit(1);
  },
);
