import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

/** Client libraries of servers a default (SQLite, in-process) configuration does not use. */
const UNUSED = ['pg', 'mysql2', 'ioredis', 'amqplib', '@nats-io/transport-node', 'nodemailer'];

// What a process loads stays in its heap (src/shared/load-when-used.ts): a server on
// SQLite with the in-process broker, cache and cluster loads none of these.
it('creates an app on the default configuration without loading other servers’ clients', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'easy-chat-clients-'));
  try {
    const script = `
      import { createRequire } from 'node:module';
      const { loadConfig } = await import('./src/config/load-config.ts');
      const { createApp } = await import('./src/app/create-app.ts');
      await createApp(loadConfig());
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));
      process.exit(0);
    `;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          LOG_FORMAT: 'json',
        },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as string[];
    expect(loaded.some((path) => path.includes('/node_modules/better-sqlite3/'))).toBe(true);
    for (const name of UNUSED) {
      expect(loaded.filter((path) => path.includes(`/node_modules/${name}/`))).toEqual([]);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
