import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { isUniqueViolation } from './storage-errors.js';
import { GroupCommitter } from './group-commit.js';
import { openStorage, type Storage } from './storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';

describe.each(STORAGES)('GroupCommitter on %s', (kind) => {
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
    const committer = new GroupCommitter(s.db);
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
    const committer = new GroupCommitter(s.db);
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
    const committer = new GroupCommitter(s.db, 3);
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
