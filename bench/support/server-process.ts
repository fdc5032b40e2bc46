import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinnedLaunch } from './cpu-pinning.js';

const root = new URL('../..', import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** The process's DATA_DIR (its SQLite file lives there). */
  dataDir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Node flags from the environment (`BENCH_*_NODE_ARGS`), split on spaces; none when unset. */
export const envNodeArgs = (name: string): string[] =>
  process.env[name]?.split(' ').filter(Boolean) ?? [];

/**
 * The node flags of a checkout's `npm start` (`node --flag dist/cli.js start`), so a
 * server runs as that version ships: an earlier commit measured side by side runs
 * with its own flags (none before src/cli/node-flags.ts).
 */
export function startScriptNodeFlags(checkout: string): string[] {
  try {
    const { scripts } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    const flags = /\bnode((?:\s+--\S+)*)\s+dist\/cli\.js\b/.exec(scripts?.start ?? '')?.[1];
    return flags?.split(/\s+/).filter(Boolean) ?? [];
  } catch {
    return [];
  }
}

/**
 * Starts the built CLI (dist/cli.js) in its own process on a loopback port, so the
 * load generator and the server do not share an event loop. With
 * BENCH_SERVER_FROM_SOURCE=1 (the smoke tests) or no build, src/cli.ts runs under tsx;
 * with the node flags of the checkout's `npm start`; BENCH_SERVER_NODE_ARGS adds more
 * (--cpu-prof).
 */
export async function startServer(
  env: Record<string, string>,
  args: string[] = [],
  /** Another checkout to run (built), e.g. an earlier commit measured side by side. */
  checkout: string = root,
): Promise<ServerProcess> {
  const port = await freePort();
  const fromSource =
    process.env.BENCH_SERVER_FROM_SOURCE === '1' || !existsSync(join(checkout, 'dist/cli.js'));
  const entry = fromSource ? ['--import', 'tsx', 'src/cli.ts'] : ['dist/cli.js'];
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
  const nodeArgs = [...startScriptNodeFlags(checkout), ...envNodeArgs('BENCH_SERVER_NODE_ARGS')];
  const dataDir = mkdtempSync(join(tmpdir(), 'easy-chat-bench-'));
  // BENCH_SERVER_CPUS: through taskset, on the cores it lists (cpu-pinning.ts).
  const launch = pinnedLaunch('BENCH_SERVER_CPUS', process.execPath);
  const child = spawn(launch.command, [...launch.prefix, ...nodeArgs, ...entry, 'start', ...args], {
    cwd: checkout,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      EASY_CHAT_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      // The settings of a probe preloaded through BENCH_SERVER_NODE_ARGS (load-window-probe.cjs,
      // and LOOP_PROBE_DIR of loop-probe.cjs, survivor-probe.cjs and stall-probe.cjs).
      ...Object.fromEntries(
        Object.entries(process.env).filter(
          ([name]) => name.startsWith('LOAD_PROBE') || name === 'LOOP_PROBE_DIR',
        ),
      ),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  // Under tsx on a loaded 2-core machine start-up alone has taken 25 s.
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('server did not become ready');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    dataDir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }).then(() => rmSync(dataDir, { recursive: true, force: true })),
  };
}
