/**
 * The command line as a new user meets it: version, help for every command,
 * mistakes refused with one line that says what to do, a taken port named with
 * the setting that moves it, and the one line printed when the server is ready.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine, type Invocation } from '../../src/cli/args.js';
import { freePort } from '../support/ports.js';

const root = new URL('../..', import.meta.url).pathname;
const dirs: string[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `easy-chat ARGS` to its end (or until `until` is seen, then SIGTERM). */
function cli(args: string[], env: Record<string, string> = {}, until?: string): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, EASY_CHAT_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let stopping = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // One SIGTERM: a second one asks the server to exit at once (code 1), and the
    // shutdown's own log lines would otherwise send it.
    if (until && !stopping && stdout.includes(until)) {
      stopping = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'easy-chat-cmd-'));
  dirs.push(dir);
  return dir;
}

function usageText(answer: Invocation): string {
  if (answer.command !== 'usage') throw new Error(`expected a usage answer, got ${answer.command}`);
  return answer.text;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Each case starts a Node process with tsx; on a loaded machine that takes seconds.
describe('easy-chat command line', { timeout: 120_000 }, () => {
  it('prints the package version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    for (const flag of ['--version', '-v']) {
      const res = await cli([flag]);
      expect(res).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('has help for itself and for every command', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const answer = parseCommandLine(args);
      expect(answer, args.join(' ')).toMatchObject({ command: 'usage', code: 0 });
      expect(usageText(answer)).toContain('usage: easy-chat <command>');
    }
    for (const args of [
      ['start', '--help'],
      ['start', '-h'],
      ['help', 'start'],
    ]) {
      const answer = parseCommandLine(args);
      expect(answer, args.join(' ')).toMatchObject({ command: 'usage', code: 0 });
      expect(usageText(answer)).toContain('usage: easy-chat start');
      expect(usageText(answer)).toContain('--roles');
    }
    for (const args of [
      ['import', '--help'],
      ['import', 'go-easy-chat', '-h'],
      ['help', 'import'],
    ]) {
      const answer = parseCommandLine(args);
      expect(answer, args.join(' ')).toMatchObject({ command: 'usage', code: 0 });
      expect(usageText(answer)).toContain('usage: easy-chat import go-easy-chat --from mysql://');
      expect(usageText(answer)).toContain('--batch N');
    }
    expect(usageText(parseCommandLine(['--help']))).toContain('import     copy');
    // No command at all: the overview, on stderr, exit 2.
    expect(parseCommandLine([])).toMatchObject({ command: 'usage', code: 2, toStderr: true });
    expect(parseCommandLine(['start', '--roles', 'api', '--config', 'x.yaml'])).toEqual({
      command: 'start',
      roles: ['api'],
      config: 'x.yaml',
    });
    expect(
      parseCommandLine(['import', 'go-easy-chat', '--from', 'mysql://go@db:3306/chat']),
    ).toEqual({
      command: 'import',
      source: 'go-easy-chat',
      from: 'mysql://go@db:3306/chat',
      config: undefined,
      batch: 500,
    });
    expect(
      parseCommandLine([
        'import',
        '--config',
        'x.yaml',
        'go-easy-chat',
        '--from=mariadb://go@db/chat',
        '--batch',
        '10000',
      ]),
    ).toMatchObject({
      command: 'import',
      from: 'mariadb://go@db/chat',
      config: 'x.yaml',
      batch: 10000,
    });
  });

  it('refuses unknown commands, options and missing values with one line', () => {
    const cases: Array<[string[], string]> = [
      [['start', '--port', '9000'], "easy-chat start: Unknown option '--port'"],
      [['start', '--roles'], "Option '--roles <value>' argument missing"],
      [['start', 'now'], "start takes no argument 'now'"],
      [['stat'], "easy-chat: unknown command 'stat'; commands: start, import, help"],
      [['--verbose'], "easy-chat: unknown option '--verbose'"],
      [['help', 'stop'], "unknown command 'stop'"],
      [
        ['import'],
        'easy-chat import: say what to import (go-easy-chat); see easy-chat import --help',
      ],
      [
        ['import', 'go-chat', '--from', 'mysql://h/db'],
        "unknown source 'go-chat' (known: go-easy-chat)",
      ],
      [['import', 'go-easy-chat'], '--from mysql://user:pass@host:3306/db is required'],
      [['import', 'go-easy-chat', '--from'], "Option '--from <value>' argument missing"],
      [['import', 'go-easy-chat', '--from', 'postgres://h/db'], '--from must be a mysql://'],
      [
        ['import', 'go-easy-chat', 'users', '--from', 'mysql://h/db'],
        "unexpected argument 'users'",
      ],
      [
        ['import', 'go-easy-chat', '--from', 'mysql://h/db', '--batch', '0'],
        "--batch must be a whole number from 1 to 10000, not '0'",
      ],
      [['import', 'go-easy-chat', '--from', 'mysql://h/db', '--batch', '2.5'], "not '2.5'"],
      [['import', 'go-easy-chat', '--from', 'mysql://h/db', '--batch', '10001'], "not '10001'"],
      [
        ['import', 'go-easy-chat', '--from', 'mysql://h/db', '--roles', 'api'],
        "easy-chat import: Unknown option '--roles'",
      ],
    ];
    for (const [args, message] of cases) {
      const answer = parseCommandLine(args);
      expect(answer, args.join(' ')).toMatchObject({ command: 'usage', code: 2, toStderr: true });
      expect(usageText(answer).split('\n'), args.join(' ')).toHaveLength(1);
      expect(usageText(answer), args.join(' ')).toContain(message);
    }
  });

  it('answers help and a mistake from a real process: stdout and exit 0, stderr and exit 2', async () => {
    const help = await cli(['start', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('usage: easy-chat start');
    const wrong = await cli(['start', '--port', '9000']);
    expect(wrong).toMatchObject({ code: 2, stdout: '' });
    expect(wrong.stderr).toBe(
      "easy-chat start: Unknown option '--port'; see easy-chat start --help\n",
    );
    // The import command answers its mistakes before reading any configuration.
    const noSource = await cli(['import', 'go-easy-chat']);
    expect(noSource).toMatchObject({ code: 2, stdout: '' });
    expect(noSource.stderr).toBe(
      'easy-chat import: --from mysql://user:pass@host:3306/db is required; see easy-chat import --help\n',
    );
  });

  it('says which port is taken and how to choose another', async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const res = await cli(['start'], {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir(),
      });
      expect(res.code).toBe(1);
      expect(res.stderr.trim()).toBe(
        `easy-chat: port ${port} is already in use (127.0.0.1:${port}); ` +
          'set PORT (or server.port in a config file) to another port, e.g. PORT=8081',
      );
    } finally {
      holder.close();
    }
  });

  it('reports migrations, then prints one ready line with the app and docs URLs, data directory and roles', async () => {
    const port = await freePort();
    const dir = dataDir();
    const res = await cli(
      ['start', '--roles', 'api,gateway'],
      { PORT: String(port), DATA_DIR: dir, LOG_LEVEL: 'info' },
      'easy-chat ready',
    );
    expect(res.code).toBe(0);
    const ready = res.stdout.split('\n').filter((line) => line.includes('easy-chat ready'));
    expect(ready).toHaveLength(1);
    const line = JSON.parse(ready[0]!) as { msg: string; url: string; dataDir: string };
    const url = `http://127.0.0.1:${port}`;
    expect(line.msg).toBe(
      `easy-chat ready: app ${url}/ · API docs ${url}/docs · data ${dir} (sqlite) · roles api, gateway`,
    );
    expect(line).toMatchObject({ url, dataDir: dir, roles: ['api', 'gateway'] });
    // An empty database: the migrations say what they do before the server is ready.
    const messages = res.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    const applying = messages.findIndex((m) => /^database: applying \d+ migration\(s\)$/.test(m));
    const applied = messages.findIndex((m) =>
      /^database: applied \d+ migration\(s\) in \d+ ms$/.test(m),
    );
    expect(applying).toBeGreaterThanOrEqual(0);
    expect(applied).toBeGreaterThan(applying);
    expect(messages.findIndex((m) => m.startsWith('easy-chat ready'))).toBeGreaterThan(applied);
  });
});
