/**
 * The systems measured, behind one shape: start N server processes, make users and a
 * group, report the servers' pids (for memory), stop. Each registers its own cleanup,
 * so a failing or interrupted script stops everything it started.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import {
  ejabberdUnavailable,
  ejabberdVersion,
  startEjabberd,
  XMPP_DOMAIN,
} from '../peers/ejabberd.js';
import type { ClientUser, DriverName } from './drivers.js';
import { addMembersInBulk } from './bulk-group.js';
import { befriendPairs, createGroupOf, registerUsers } from './fixtures.js';
import { keepStatistics } from './pg-statistics.js';
import { log, onCleanup } from './run.js';
import { freePort, startServer, type ServerProcess } from './server-process.js';

export interface System {
  label: string;
  driver: DriverName;
  /** One URL per server process; clients are spread over them. */
  urls: string[];
  pids(): number[];
  /** Where an easy-chat system keeps its data (a ceiling script reads the same rows). */
  database?:
    { driver: 'sqlite'; file: string } | { driver: 'postgres'; url: string; schema: string };
  makeUsers(count: number): Promise<ClientUser[]>;
  /** Makes each pair able to chat (friends on easy-chat; nothing to do elsewhere). */
  pair(pairs: Array<[ClientUser, ClientUser]>): Promise<void>;
  /**
   * A group of all these users (the first owns it): the users to connect (Socket.IO
   * carries its rooms in the token), and the room XMPP clients must join.
   */
  group(users: ClientUser[]): Promise<{ id: string; users: ClientUser[]; joinRoom?: string }>;
  stop(): Promise<void>;
}

export const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
/** A MySQL or MariaDB server; each easy-chat server gets a database of its own on it. */
export const MYSQL_URL =
  process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL =
  process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Settings that keep the benchmark measuring chat, not the limiters or password hashing. */
export const EASY_CHAT_ENV = {
  EC_AUTH__ARGON2__MEMORY_KIB: '1024',
  EC_AUTH__ARGON2__TIME_COST: '1',
  EC_GATEWAY__FRAMES_PER_SEC: '100000',
  EC_GATEWAY__FRAME_BURST: '100000',
  EC_GATEWAY__IDLE_TIMEOUT_MS: '600000',
  EC_GATEWAY__MAX_PENDING_REQUESTS: '10000',
  // Every load-generator socket comes from 127.0.0.1.
  EC_GATEWAY__MAX_CONNECTIONS_PER_ADDRESS: '0',
  EC_SOCIAL__GROUP_MEMBER_LIMIT: '100000',
  EC_RATE_LIMIT__REGISTER__PER_IP__LIMIT: '100000000',
  // One secret for every process of a run (each has a data directory of its own).
  JWT_SECRET: randomBytes(32).toString('hex'),
};

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

// ---------------------------------------------------------------- easy-chat

export type Storage = 'sqlite' | 'postgres' | 'mysql';

/** MYSQL_URL with its database replaced by `database`. */
function mysqlUrlOf(database: string): string {
  const url = new URL(MYSQL_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** "MariaDB" or "MySQL", as the server says. */
async function mysqlServerName(): Promise<string> {
  const connection = await createConnection({ uri: mysqlUrlOf('') });
  try {
    const [rows] = await connection.query('select version() as v');
    return /mariadb/i.test(String((rows as Array<{ v: string }>)[0]?.v)) ? 'MariaDB' : 'MySQL';
  } finally {
    await connection.end();
  }
}

async function dropMysqlDatabase(database: string): Promise<void> {
  const connection = await createConnection({ uri: mysqlUrlOf('') });
  try {
    await connection.query(`drop database if exists \`${database}\``);
  } finally {
    await connection.end();
  }
}

/** Another checkout (built) to run instead of this one, as BENCH_REF_DIR names it. */
export interface Checkout {
  dir: string;
  label: string;
  /** Settings an earlier version does not know (its config refuses unknown keys). */
  dropEnv?: string[];
}

/**
 * BENCH_REF_DIR=/tmp/a,/tmp/b BENCH_REF_LABEL=a,b BENCH_REF_DROP_ENV='X,Y;Z': the earlier
 * checkouts a benchmark runs beside this one, or none.
 */
export function checkoutsFromEnv(env: NodeJS.ProcessEnv = process.env): Checkout[] {
  if (!env.BENCH_REF_DIR) return [];
  return env.BENCH_REF_DIR.split(',').map((dir, n) => ({
    dir,
    label: env.BENCH_REF_LABEL?.split(',')[n] ?? `reference ${n + 1}`,
    dropEnv: (env.BENCH_REF_DROP_ENV?.split(';')[n] ?? '').split(',').filter(Boolean),
  }));
}

export async function startEasyChat(opts: {
  storage: Storage;
  processes?: number;
  env?: Record<string, string>;
  /**
   * Another checkout (built) to run instead of this one; labelled as given. `dropEnv`
   * names settings an earlier version does not know (its config refuses unknown keys).
   */
  checkout?: Checkout;
}): Promise<System> {
  const processes = opts.processes ?? 1;
  if (processes > 1 && opts.storage === 'sqlite')
    throw new Error('several easy-chat processes need PostgreSQL or MySQL');
  const schema = `bench_${unique()}`;
  // EC_* variables of the benchmark's own environment reach the servers (experiments).
  const fromEnv = Object.entries(process.env).filter(([k, v]) => k.startsWith('EC_') && v);
  const env: Record<string, string> = {
    ...EASY_CHAT_ENV,
    ...(Object.fromEntries(fromEnv) as Record<string, string>),
    ...opts.env,
  };
  for (const key of opts.checkout?.dropEnv ?? []) delete env[key];
  if (opts.storage === 'postgres')
    Object.assign(env, {
      EC_STORAGE__DRIVER: 'postgres',
      DATABASE_URL,
      EC_STORAGE__POSTGRES__SCHEMA: schema,
    });
  // A database of its own, created by the server's first migration.
  if (opts.storage === 'mysql')
    Object.assign(env, { EC_STORAGE__DRIVER: 'mysql', DATABASE_URL: mysqlUrlOf(schema) });
  const servers: ServerProcess[] = [];
  let stopKeepingStatistics = async () => undefined as void;
  const stop = async () => {
    await stopKeepingStatistics();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    if (opts.storage === 'mysql') await dropMysqlDatabase(schema);
    if (opts.storage === 'postgres') {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    }
  };
  const unregister = onCleanup(stop);
  // The first process creates the schema; the others start once it is there.
  servers.push(await startServer(env, [], opts.checkout?.dir));
  servers.push(
    ...(await Promise.all(
      Array.from({ length: processes - 1 }, () => startServer(env, [], opts.checkout?.dir)),
    )),
  );
  if (opts.storage === 'postgres')
    stopKeepingStatistics = await keepStatistics(DATABASE_URL, schema);
  const base = servers[0]!.url;
  const engine =
    opts.storage === 'sqlite'
      ? 'SQLite'
      : opts.storage === 'postgres'
        ? 'PostgreSQL'
        : await mysqlServerName();
  const label = `${opts.checkout?.label ?? 'easy-chat'} (${engine})`;
  const database: System['database'] =
    opts.storage === 'sqlite'
      ? { driver: 'sqlite', file: join(servers[0]!.dataDir, 'easy-chat.db') }
      : opts.storage === 'postgres'
        ? { driver: 'postgres', url: DATABASE_URL, schema }
        : undefined;
  return {
    label: processes > 1 ? `${label} x${processes}` : label,
    driver: 'easy-chat',
    urls: servers.map((s) => s.url),
    pids: () => servers.map((s) => s.child.pid!),
    database,
    async makeUsers(count) {
      const users = await registerUsers(base, count, (n) => log(`  registered ${n}/${count}`));
      return users.map((u) => ({ id: u.id, token: u.token }));
    },
    async pair(pairs) {
      await befriendPairs(
        base,
        pairs.map(([a, b]) => [
          { id: a.id, token: a.token! },
          { id: b.id, token: b.token! },
        ]),
      );
    },
    async group(users) {
      const [owner, ...members] = users.map((u) => ({ id: u.id, token: u.token! }));
      if (!database) {
        const id = await createGroupOf(base, owner!, members, (n) => log(`  joined ${n}`));
        return { id, users };
      }
      // Joining one by one costs the square of the size (bulk-group.ts): the rows go in at once.
      const id = await createGroupOf(base, owner!, []);
      await addMembersInBulk(
        database,
        id,
        owner!.id,
        members.map((m) => m.id),
      );
      return { id, users };
    },
    async stop() {
      unregister();
      await stop();
    },
  };
}

// ---------------------------------------------------------------- ejabberd

export { ejabberdUnavailable, ejabberdVersion };

export async function startEjabberdSystem(): Promise<System> {
  const server = await startEjabberd();
  const password = 'bench-password';
  const run = unique();
  return {
    label: 'ejabberd',
    driver: 'xmpp',
    urls: [server.wsUrl],
    pids: () => [server.pid],
    async makeUsers(count) {
      const names = Array.from({ length: count }, (_, i) => `b${run}_${i}`);
      await server.register(names, password, (n) => log(`  registered ${n}/${count}`));
      return names.map((n) => ({ id: `${n}@${XMPP_DOMAIN}`, password }));
    },
    async pair() {
      /* XMPP needs no roster entry to chat */
    },
    async group(users) {
      const room = await server.createRoom(`g${unique()}`, users.length + 10);
      return { id: room, users, joinRoom: room };
    },
    stop: () => server.stop(),
  };
}

// ---------------------------------------------------------------- Node peers (forked processes)

interface Forked {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function forkServer(script: string, env: Record<string, string>): Promise<Forked> {
  const port = await freePort();
  const child = fork(new URL(`../peers/${script}`, import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=8192'],
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

async function forkedSystem(
  label: string,
  driver: DriverName,
  script: string,
  processes: number,
  env: Record<string, string>,
  users: (count: number) => ClientUser[],
  group: System['group'],
): Promise<System> {
  const servers: Forked[] = [];
  const stop = async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  };
  const unregister = onCleanup(stop);
  for (let i = 0; i < processes; i += 1) servers.push(await forkServer(script, env));
  return {
    label: processes > 1 ? `${label} x${processes}` : label,
    driver,
    urls: servers.map((s) => s.url),
    pids: () => servers.map((s) => s.pid),
    makeUsers: async (count) => users(count),
    pair: async () => undefined,
    group,
    async stop() {
      unregister();
      await stop();
    },
  };
}

export function startSocketIo(processes = 1): Promise<System> {
  const run = unique();
  return forkedSystem(
    'Socket.IO + Redis adapter',
    'socket.io',
    'socketio-server.ts',
    processes,
    { REDIS_URL, SIO_KEY: `bench-sio-${run}` },
    (count) => Array.from({ length: count }, (_, i) => ({ id: `u:s${i}`, token: `s${i}` })),
    async (users) => {
      const room = `g:${unique()}`;
      return { id: room, users: users.map((u) => ({ ...u, token: `${u.token}|${room}` })) };
    },
  );
}

export function startRawWs(processes = 1): Promise<System> {
  return forkedSystem(
    'bare ws',
    'ws',
    'raw-ws-server.ts',
    processes,
    {},
    (count) => Array.from({ length: count }, (_, i) => ({ id: `w${i}` })),
    async (users) => ({ id: 'everyone', users }),
  );
}
