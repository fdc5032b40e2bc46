#!/usr/bin/env -S node --max-semi-space-size=64 --min-semi-space-size=16 --heap-growing-percent=100
import { existsSync } from 'node:fs';
import { parseCommandLine } from './cli/args.js';
import { missingNodeFlags } from './cli/node-flags.js';
import { describeListenError } from './cli/start-errors.js';
import type { Config, Role } from './config/config.schema.js';
import { ConfigError } from './config/config-error.js';

/** Time after the request drain (server.shutdownTimeoutMs) to close adapters before exiting anyway. */
const CLOSE_GRACE_MS = 5_000;

/** Set once the configuration is read, so a failed start can name the port it tried. */
let loadedConfig: Config | undefined;

async function main(argv: string[]): Promise<number> {
  const invocation = parseCommandLine(argv);
  if (invocation.command === 'usage') {
    (invocation.toStderr ? console.error : console.log)(invocation.text);
    return invocation.code;
  }

  // A .env file in the working directory fills in variables not already set.
  if (existsSync('.env')) process.loadEnvFile('.env');
  if (invocation.command === 'import') {
    // Loaded only for this command: the server never loads the importer.
    const { importCommand } = await import('./cli/import-command.js');
    return importCommand(invocation);
  }
  // Loaded only to start: help and version answer without loading the server.
  const { loadConfig } = await import('./config/load-config.js');
  const { createApp } = await import('./app/create-app.js');
  const roles = invocation.roles as Role[] | undefined;
  const config = loadConfig({ file: invocation.config, overrides: roles ? { roles } : undefined });
  loadedConfig = config;
  const app = await createApp(config);
  const missing = missingNodeFlags(process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length > 0) {
    // Started some other way than `npm start`, the image or the bin (src/cli/node-flags.ts).
    app.logger.warn(
      { missing },
      'started without the node flags easy-chat is meant to run with: the p99 latency will be higher',
    );
  }

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
  // Listening before start() finishes: a signal right after the ready line is a shutdown.
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await app.start();
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const listenProblem = loadedConfig && describeListenError(err, loadedConfig);
    if (err instanceof ConfigError) {
      console.error(`easy-chat: ${err.message}`);
    } else if (listenProblem) {
      console.error(listenProblem);
    } else {
      console.error('easy-chat: failed to start:', err);
    }
    process.exit(1);
  },
);
