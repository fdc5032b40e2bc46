import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { isUniqueViolation } from './storage-errors.js';
import { sql, type Kysely } from 'kysely';
import { isStorageUnavailable } from './storage-errors.js';
import { GroupCommitter, PipelinedGroupCommitter } from './group-commit.js';
import type { Database } from './schema.js';
import { openStorage, type Storage } from './storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';

type Committer = GroupCommitter | PipelinedGroupCommitter;
type Made = new (db: Kysely<Database>, maxBatch?: number) => Committer;
const COMMITTERS: Array<readonly [string, (typeof STORAGES)[number], Made]> = [
  ...STORAGES.map((kind) => ['GroupCommitter', kind, GroupCommitter] as const),
  ...(STORAGES.includes('postgres')
    ? [['PipelinedGroupCommitter', 'postgres', PipelinedGroupCommitter] as const]
    : []),
];

describe.each(COMMITTERS)('%s on %s', (_name, kind, Made) => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
  });
  const open = async () => {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    return storage;
  };
  const user = (id: string, phone: string) => ({
    id,
    phone,
    nickname: 'n',
    passwordHash: 'h',
    sex: 0,
    avatar: '',
    status: 0,
    createdAt: 1,
    updatedAt: 1,
  });

  it('commits concurrent units together, each with its own result, and isolates a failing one', async () => {
    const s = await open();
    const committer = new Made(s.db);
    const results = await Promise.allSettled(
      ['1', '2', 'dup', '3', 'dup'].map((phone, i) =>
        committer.run(async (trx) => {
          await trx
            .insertInto('users')
            .values(user(`u${i}`, phone))
            .execute();
          return `u${i}`;
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    expect(isUniqueViolation((results[4] as PromiseRejectedResult).reason)).toBe(true);
    const rows = await s.db.selectFrom('users').select(['id', 'phone']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'u0', phone: '1' },
      { id: 'u1', phone: '2' },
      { id: 'u2', phone: 'dup' },
      { id: 'u3', phone: '3' },
    ]);
  });

  it('rolls back everything a failing unit wrote, even after several statements', async () => {
    const s = await open();
    const committer = new Made(s.db);
    await expect(
      committer.run(async (trx) => {
        await trx.insertInto('users').values(user('a', '10')).execute();
        await trx.insertInto('users').values(user('b', '10')).execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    const ok = committer.run(async (trx) =>
      trx.insertInto('users').values(user('c', '11')).execute(),
    );
    await ok;
    expect((await s.db.selectFrom('users').select('id').execute()).map((r) => r.id)).toEqual(['c']);
  });

  it('settles every unit only after the shared commit, in batches of at most maxBatch', async () => {
    const s = await open();
    const committer = new Made(s.db, 3);
    const order: string[] = [];
    const runs = Array.from({ length: 7 }, (_, i) =>
      committer
        .run(async (trx) => {
          order.push(`work${i}`);
          await trx
            .insertInto('users')
            .values(user(`u${i}`, `p${i}`))
            .execute();
        })
        .then(async () => {
          // Visible to another connection as soon as the unit is settled.
          const row = await s.db
            .selectFrom('users')
            .select('id')
            .where('id', '=', `u${i}`)
            .executeTakeFirst();
          order.push(row ? `seen${i}` : `missing${i}`);
        }),
    );
    await Promise.all(runs);
    expect(order.filter((o) => o.startsWith('missing'))).toEqual([]);
    expect(order.filter((o) => o.startsWith('work'))).toEqual(
      Array.from({ length: 7 }, (_, i) => `work${i}`),
    );
  });
});

describe.runIf(STORAGES.includes('postgres'))('PipelinedGroupCommitter on postgres', () => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
  });
  const open = async () => {
    const made = testConfig({ storage: 'postgres' });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    return storage;
  };
  const insertUser = (trx: Kysely<Database>, id: string, phone: string) =>
    trx
      .insertInto('users')
      .values({
        id,
        phone,
        nickname: 'n',
        passwordHash: 'h',
        sex: 0,
        avatar: '',
        status: 0,
        createdAt: 1,
        updatedAt: 1,
      })
      .execute();
  const ids = async (s: Storage) =>
    (await s.db.selectFrom('users').select('id').orderBy('id').execute()).map((r) => r.id);
  const txid = async (trx: Kysely<Database>) =>
    (await sql<{ id: string }>`select txid_current()::text as id`.execute(trx)).rows[0]!.id;

  it('runs the units of a batch at once in one transaction', async () => {
    const s = await open();
    const committer: Committer = new PipelinedGroupCommitter(s.db);
    let running = 0;
    let most = 0;
    const txids = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        committer.run(async (trx) => {
          running += 1;
          most = Math.max(most, running);
          await insertUser(trx, `u${i}`, `p${i}`);
          running -= 1;
          return txid(trx);
        }),
      ),
    );
    expect(new Set(txids).size).toBe(1);
    expect(most).toBe(5);
    expect(await ids(s)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
  });

  it('runs every unit of a failed batch again alone: the failing one fails, the others commit', async () => {
    const s = await open();
    const committer = new PipelinedGroupCommitter(s.db);
    const runs: string[] = [];
    const results = await Promise.allSettled(
      ['a', 'dup', 'b', 'dup'].map((phone, i) =>
        committer.run(async (trx) => {
          runs.push(`u${i}`);
          await insertUser(trx, `u${i}`, phone);
          // A unit that catches its statement's error is no way to commit a broken batch.
          await insertUser(trx, `x${i}`, `x${phone}`).catch(() => undefined);
          return txid(trx);
        }),
      ),
    );
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(isUniqueViolation(rejected[0]!.reason)).toBe(true);
    // Once in the batch, once alone: each alone has a transaction of its own.
    expect(runs.sort()).toEqual(['u0', 'u0', 'u1', 'u1', 'u2', 'u2', 'u3', 'u3']);
    const txids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(new Set(txids).size).toBe(3);
    expect(await ids(s)).toEqual(['u0', 'u1', 'u2', 'x0', 'x1', 'x2']);
  });

  it('fails every unit of a batch whose connection broke, commits none, and goes on', async () => {
    const s = await open();
    const committer = new PipelinedGroupCommitter(s.db);
    let pid: number | undefined;
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) =>
        committer.run(async (trx) => {
          await insertUser(trx, `u${i}`, `p${i}`);
          if (i === 0) {
            pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!
              .pid;
            await sql`select pg_terminate_backend(${pid})`.execute(s.db);
          }
          await sql`select pg_sleep(0.2)`.execute(trx);
        }),
      ),
    );
    expect(pid).toBeDefined();
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const r of results)
      expect(isStorageUnavailable((r as PromiseRejectedResult).reason)).toBe(true);
    expect(await ids(s)).toEqual([]);
    await committer.run((trx) => insertUser(trx, 'after', 'p'));
    expect(await ids(s)).toEqual(['after']);
  });
});
