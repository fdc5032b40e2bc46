/**
 * The ceiling script of the private-message benchmarks (bench/peers/ceiling-chat.ts: bare
 * `ws`, prepared SQL, group commit, outbox row, idempotency index; on SQLite at
 * synchronous = FULL or on PostgreSQL, bench/peers/ceiling-chat-pg.ts) as a System, so the load generators drive it with the
 * easy-chat driver like easy-chat itself. Its users need no registration: the token is
 * the user id.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinnedLaunch } from './cpu-pinning.js';
import { keepStatistics } from './pg-statistics.js';
import { onCleanup } from './run.js';
import { envNodeArgs, freePort } from './server-process.js';
import { DATABASE_URL, type System } from './systems.js';

const root = new URL('../..', import.meta.url).pathname;

/** As bench:cpu labels them. */
export const CEILING_LABEL = {
  sqlite: 'ceiling (ws + prepared SQL, group commit)',
  postgres: 'ceiling on PostgreSQL (ws + prepared SQL, group commit)',
} as const;

export async function startCeilingChat(store: 'sqlite' | 'postgres'): Promise<System> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'easy-chat-bench-ceiling-'));
  // On PostgreSQL it creates a schema of its own and drops it when stopped.
  const target = store === 'postgres' ? DATABASE_URL : join(dir, 'chat.db');
  // BENCH_SERVER_CPUS pins the ceilings as it pins easy-chat (cpu-pinning.ts).
  const launch = pinnedLaunch('BENCH_SERVER_CPUS', process.execPath);
  const child = spawn(
    launch.command,
    [
      ...launch.prefix,
      // e.g. BENCH_CEILING_NODE_ARGS="--require $PWD/bench/support/load-window-probe.cjs" to
      // profile the ceiling the way BENCH_SERVER_NODE_ARGS profiles easy-chat.
      ...envNodeArgs('BENCH_CEILING_NODE_ARGS'),
      '--import',
      'tsx',
      'bench/peers/ceiling-chat.ts',
      String(port),
      target,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stopKeepingStatistics = async () => undefined as void;
  const stop = async () => {
    await stopKeepingStatistics();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onCleanup(stop);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`ceiling exited with ${code}`)));
  });
  // Its schema is ceiling_<pid>_<time> (bench/peers/ceiling-chat-pg.ts).
  if (store === 'postgres')
    stopKeepingStatistics = await keepStatistics(DATABASE_URL, `ceiling_${child.pid}_%`);
  let made = 0;
  return {
    label: CEILING_LABEL[store],
    driver: 'easy-chat',
    urls: [`http://127.0.0.1:${port}`],
    pids: () => [child.pid!],
    async makeUsers(count) {
      return Array.from({ length: count }, () => {
        const id = `u${(made += 1)}`;
        return { id, token: id };
      });
    },
    async pair() {
      /* anyone may write to anyone */
    },
    group() {
      throw new Error('the ceiling script has no groups');
    },
    async stop() {
      unregister();
      await stop();
    },
  };
}
