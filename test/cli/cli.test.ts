import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { fetchMetrics } from '../support/metrics.js';

const root = new URL('../..', import.meta.url).pathname;

interface Run {
  exit: Promise<number | null>;
  output: () => string;
  kill: (signal: NodeJS.Signals) => void;
  /** Closes the read end of the process's stdout pipe, as a parent that exited does. */
  closeStdout: () => void;
  exited: () => boolean;
}

/** Every process started, so that a failed test leaves none running. */
const started: Array<{ kill: (signal: NodeJS.Signals) => boolean }> = [];

function runCli(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return {
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    output: () => output,
    kill: (signal) => child.kill(signal),
    closeStdout: () => child.stdout.destroy(),
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('easy-chat CLI', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'easy-chat-cli-'));
    dirs.push(dir);
    return dir;
  };

  it('refuses a broken config with a message naming the key', async () => {
    const run = runCli(['start'], {
      EASY_CHAT_ENV: 'test',
      PORT: 'not-a-port',
      DATA_DIR: dataDir(),
    });
    expect(await run.exit).toBe(1);
    expect(run.output()).toContain('server.port');
  });

  it('refuses an unknown key and an unknown role', async () => {
    const unknownKey = runCli(['start'], {
      EASY_CHAT_ENV: 'test',
      EC_STORAGE__DRIVERR: 'x',
      DATA_DIR: dataDir(),
    });
    expect(await unknownKey.exit).toBe(1);
    expect(unknownKey.output()).toContain('storage.driverr: unknown key');
    const badRole = runCli(['start', '--roles', 'api,chef'], {
      EASY_CHAT_ENV: 'test',
      DATA_DIR: dataDir(),
    });
    expect(await badRole.exit).toBe(1);
    expect(badRole.output()).toContain('roles');
  });

  it('refuses production with the default JWT secret', async () => {
    const run = runCli(['start'], { EASY_CHAT_ENV: 'production', DATA_DIR: dataDir() });
    expect(await run.exit).toBe(1);
    expect(run.output()).toContain('auth.jwtSecret');
  });

  it('starts on PORT and DATA_DIR, finishes in-flight requests on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const run = runCli(['start', '--roles', 'api'], {
      EASY_CHAT_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATA_DIR: dataDir(),
      // Real hashing cost so that a login is still running when the signal arrives.
      EC_AUTH__ARGON2__MEMORY_KIB: '65536',
      EC_AUTH__ARGON2__TIME_COST: '3',
    });
    await waitFor(() => run.output().includes('easy-chat ready'), 'start-up');
    const base = `http://127.0.0.1:${port}`;
    const health = (await (await fetch(`${base}/healthz`)).json()) as { data: { roles: string[] } };
    expect(health.data.roles).toEqual(['api']);
    const body = JSON.stringify({ phone: '13900000001', password: 'password-1', nickname: 'n' });
    const headers = { 'content-type': 'application/json' };
    expect(
      (await fetch(`${base}/v1/user/register`, { method: 'POST', body, headers })).status,
    ).toBe(200);

    const login = fetch(`${base}/v1/user/login`, {
      method: 'POST',
      body: JSON.stringify({ phone: '13900000001', password: 'password-1' }),
      headers,
    });
    await new Promise((r) => setTimeout(r, 20));
    run.kill('SIGTERM');
    expect((await login).status).toBe(200);
    expect(await run.exit).toBe(0);
    expect(run.output()).toContain('easy-chat stopped');
  });

  /** Starts the whole product with LOG_LEVEL=info; resolves once it serves. */
  async function startLogging(): Promise<{ run: Run; base: string }> {
    const port = await freePort();
    const run = runCli(['start'], {
      EASY_CHAT_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATA_DIR: dataDir(),
      EC_SERVER__SHUTDOWN_TIMEOUT_MS: '2000',
    });
    await waitFor(() => run.output().includes('easy-chat ready'), 'start-up');
    return { run, base: `http://127.0.0.1:${port}` };
  }

  /** The drain (2 s) plus the time to close adapters (5 s), plus scheduling slack. */
  const EXIT_BOUND_MS = 2_000 + 5_000 + 2_000;
  async function exitsAfterSigterm(run: Run): Promise<void> {
    const signalled = Date.now();
    run.kill('SIGTERM');
    await waitFor(run.exited, 'exit', EXIT_BOUND_MS).catch(() => {
      run.kill('SIGKILL');
      throw new Error(`still running ${Date.now() - signalled} ms after SIGTERM`);
    });
  }

  it('exits on SIGTERM within the deadline after the reader of its log pipe went away', async () => {
    const { run } = await startLogging();
    // The parent stops reading (it exited): the shutdown's own log lines meet EPIPE.
    run.closeStdout();
    await exitsAfterSigterm(run);
  });

  it('keeps serving with a closed log pipe, counting the lines it drops', async () => {
    const { run, base } = await startLogging();
    run.closeStdout();
    for (let i = 0; i < 20; i += 1) {
      const res = await fetch(`${base}/v1/user/user`, { signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(401);
    }
    const metrics = await (await fetchMetrics(base)).text();
    const dropped = /^easychat_log_lines_dropped_total\{[^}]*reason="closed"[^}]*\} (\d+)/m.exec(
      metrics,
    );
    expect(Number(dropped?.[1])).toBeGreaterThan(0);
    await exitsAfterSigterm(run);
  });
});
