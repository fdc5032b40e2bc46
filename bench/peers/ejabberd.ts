/**
 * ejabberd from Debian's packages, started for one benchmark run with a config of its
 * own: every listener on 127.0.0.1, message archiving (mod_mam) on for chats and rooms,
 * no traffic shaper (easy-chat's frame limits are lifted too), its state in a temporary
 * spool directory. Users and rooms are created through its HTTP API (the same commands
 * as `ejabberdctl register` / `create_room_with_opts`, without starting a VM per user).
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from '../support/run.js';
import { freePort } from '../support/server-process.js';

const run = promisify(execFile);
export const EJABBERDCTL = '/usr/sbin/ejabberdctl';
export const XMPP_DOMAIN = 'localhost';
export const MUC_DOMAIN = `conference.${XMPP_DOMAIN}`;

/** Why ejabberd cannot run here, or undefined when it can. */
export function ejabberdUnavailable(): string | undefined {
  if (process.env.BENCH_EJABBERD === '0') return 'BENCH_EJABBERD=0';
  if (!existsSync(EJABBERDCTL))
    return 'ejabberd is not installed (apt-get install ejabberd to include it)';
  if (process.getuid?.() !== 0) return 'ejabberdctl start needs root';
  return undefined;
}

export function ejabberdVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'ejabberd'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

export interface Ejabberd {
  /** XMPP over WebSocket (RFC 7395). */
  wsUrl: string;
  pid: number;
  register(users: string[], password: string, onProgress?: (n: number) => void): Promise<void>;
  createRoom(name: string, maxUsers: number): Promise<string>;
  stop(): Promise<void>;
}

function config(xmppPort: number, httpPort: number): string {
  return `# Written by bench/peers/ejabberd.ts for one benchmark run.
loglevel: warning
log_rotate_count: 0
hosts: ["${XMPP_DOMAIN}"]
listen:
  - port: ${xmppPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    backlog: 4096
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
  - port: ${httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    backlog: 4096
    request_handlers:
      /ws: ejabberd_http_ws
      /api: mod_http_api
auth_method: internal
# SASL PLAIN over loopback: authentication costs a lookup, like easy-chat's JWT check.
auth_password_format: plain
acl:
  loopback:
    ip: ["127.0.0.0/8"]
access_rules:
  c2s:
    allow: all
  muc_create:
    allow: all
api_permissions:
  "loopback admin":
    who:
      ip: "127.0.0.1/8"
    what: ["*"]
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages: 100
  # No rate limit on clients (the benchmark measures throughput).
  c2s_shaper: none
modules:
  mod_admin_extra: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_disco: {}
  mod_http_api: {}
  mod_last: {}
  mod_mam:
    default: always
  mod_muc:
    access: [allow]
    access_create: muc_create
    access_persistent: muc_create
    access_mam: [allow]
    max_users: 100000
    # Above this many occupants, joins and leaves are not broadcast to everyone.
    max_users_presence: 100
    history_size: 0
    default_room_options:
      mam: true
      persistent: true
      max_users: 100000
  mod_muc_admin: {}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {}
  mod_roster: {}
  mod_stream_mgmt: {}
`;
}

/**
 * ejabberdctl run as the ejabberd user through setpriv rather than its own `su`: su
 * goes through PAM, which lowers the open-file limit to 1,024 and so caps ejabberd
 * near a thousand sockets; setpriv keeps this process's limit (20,000 here).
 */
async function ctl(base: string[], args: string[], timeout = 120_000) {
  return run(
    'setpriv',
    ['--reuid=ejabberd', '--regid=ejabberd', '--init-groups', EJABBERDCTL, ...base, ...args],
    {
      timeout,
      cwd: base[base.indexOf('--spool') + 1],
      env: { ...process.env, HOME: '/var/lib/ejabberd' },
    },
  );
}

export async function startEjabberd(): Promise<Ejabberd> {
  const why = ejabberdUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'ejabberd-bench-'));
  const xmppPort = await freePort();
  const httpPort = await freePort();
  const node = `bench${process.pid}@localhost`;
  const pidFile = join(dir, 'ejabberd.pid');
  writeFileSync(join(dir, 'ejabberd.yml'), config(xmppPort, httpPort));
  writeFileSync(
    join(dir, 'ejabberdctl.cfg'),
    [
      `ERLANG_NODE=${node}`,
      // One port per connection: room for 20,000 open files and then some.
      'ERL_MAX_PORTS=65536',
      'ERL_PROCESSES=1000000',
      'ERL_EPMD_ADDRESS=127.0.0.1',
      'INET_DIST_INTERFACE=127.0.0.1',
      `EJABBERD_PID_PATH=${pidFile}`,
      'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"',
      '',
    ].join('\n'),
  );
  const { uid, gid } = ejabberdUser();
  for (const f of ['', 'ejabberd.yml', 'ejabberdctl.cfg']) chownSync(join(dir, f), uid, gid);
  const base = [
    '--config-dir',
    dir,
    '--config',
    join(dir, 'ejabberd.yml'),
    '--ctl-config',
    join(dir, 'ejabberdctl.cfg'),
    '--spool',
    dir,
    '--logs',
    dir,
    '--node',
    node,
  ];
  let started = false;
  const stop = async () => {
    if (!started) return;
    started = false;
    await ctl(base, ['stop'], 60_000).catch(() => undefined);
    await ctl(base, ['stopped'], 60_000).catch(() => undefined);
    const pid = readPid(pidFile);
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  started = true;
  // Registered before starting, so an interrupted start is stopped too.
  const unregister = onCleanup(stop);
  try {
    await ctl(base, ['start']);
    await ctl(base, ['started']);
    const api = `http://127.0.0.1:${httpPort}/api`;
    await waitForApi(api);
    const pid = readPid(pidFile);
    if (!pid) throw new Error('ejabberd wrote no pid file');
    return {
      wsUrl: `ws://127.0.0.1:${httpPort}/ws`,
      pid,
      register: (users, password, onProgress) => registerAll(api, users, password, onProgress),
      createRoom: (name, maxUsers) => createRoom(api, name, maxUsers),
      stop: async () => {
        unregister();
        await stop();
      },
    };
  } catch (err) {
    const log = join(dir, 'ejabberd.log');
    if (existsSync(log)) console.error(readFileSync(log, 'utf8').slice(-3000));
    await stop();
    throw err;
  }
}

function ejabberdUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ejabberd:'));
  if (!line) throw new Error('no ejabberd user');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function apiCall(api: string, command: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${api}/${command}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`ejabberd ${command}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function waitForApi(api: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await apiCall(api, 'status', {});
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function registerAll(
  api: string,
  users: string[],
  password: string,
  onProgress?: (n: number) => void,
) {
  let done = 0;
  for (let i = 0; i < users.length; i += 20) {
    await Promise.all(
      users
        .slice(i, i + 20)
        .map((user) => apiCall(api, 'register', { user, host: XMPP_DOMAIN, password })),
    );
    done += Math.min(20, users.length - i);
    if (done % 1000 < 20) onProgress?.(done);
  }
}

async function createRoom(api: string, name: string, maxUsers: number): Promise<string> {
  await apiCall(api, 'create_room_with_opts', {
    name,
    service: MUC_DOMAIN,
    host: XMPP_DOMAIN,
    options: [
      { name: 'max_users', value: String(maxUsers) },
      { name: 'mam', value: 'true' },
      { name: 'persistent', value: 'true' },
      { name: 'members_only', value: 'false' },
    ],
  });
  return `${name}@${MUC_DOMAIN}`;
}
