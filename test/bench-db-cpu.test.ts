import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePids } from '../bench/support/db-cpu.js';
import { TEST_DATABASE_URL } from './support/backends.js';

// The benchmarks add to a server's CPU that of the PostgreSQL backends working for it,
// found by its sockets: over TCP by the client port a backend's command line names,
// over the Unix socket by the socket pairs (`ss -x`). Found wrongly, a figure per message
// silently lost (or gained) the database's share.
const url = TEST_DATABASE_URL ? new URL(TEST_DATABASE_URL) : undefined;
const socketDir = '/var/run/postgresql';
const port = Number(url?.port || 5432);
const hasSocket = existsSync(`${socketDir}/.s.PGSQL.${port}`);
// Socket pairs come from iproute2's `ss`; without it such backends are not counted (warned).
const hasSs = spawnSync('ss', ['-V']).status === 0;

describe.skipIf(!url)('databasePids (the backends of a Node process)', () => {
  const tcp = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const local = new pg.Client({
    host: socketDir,
    port,
    user: decodeURIComponent(url?.username ?? '') || 'postgres',
    database: (url?.pathname ?? '/test').slice(1),
  });
  const backendOf = async (client: pg.Client) =>
    Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);

  beforeAll(async () => {
    await tcp.connect();
    if (hasSocket) await local.connect();
  });
  afterAll(async () => {
    await tcp.end();
    if (hasSocket) await local.end();
  });

  it('finds the backend of a connection over TCP, and not for another process', async () => {
    const backend = await backendOf(tcp);
    expect(databasePids('postgres', [process.pid])).toContain(backend);
    expect(databasePids('postgres', [process.ppid])).not.toContain(backend);
  });

  it.skipIf(!hasSocket || !hasSs)(
    'finds the backend of a connection over the Unix socket',
    async () => {
      const backend = await backendOf(local);
      expect(databasePids('postgres', [process.pid])).toContain(backend);
      expect(databasePids('postgres', [process.ppid])).not.toContain(backend);
    },
  );
});
