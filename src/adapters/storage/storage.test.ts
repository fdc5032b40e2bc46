import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from './storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { isUniqueViolation } from './storage-errors.js';

describe.each(STORAGES)('storage on %s', (kind) => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
  });

  function open(): Storage {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    return storage;
  }

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

  it('migrates a fresh database and is idempotent', async () => {
    const s = open();
    await s.migrate();
    await s.migrate();
    await s.ping();
    const rows = await s.db.selectFrom('users').selectAll().execute();
    expect(rows).toEqual([]);
  });

  it('runs concurrent migrations without failing', async () => {
    const s = open();
    await Promise.all([s.migrate(), s.migrate()]);
    await s.db.insertInto('users').values(user('u1', '100')).execute();
  });

  it('recognises unique violations on this engine', async () => {
    const s = open();
    await s.migrate();
    await s.db.insertInto('users').values(user('u1', '100')).execute();
    const duplicate = await s.db
      .insertInto('users')
      .values(user('u2', '100'))
      .execute()
      .catch((e: unknown) => e);
    expect(isUniqueViolation(duplicate)).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
  });

  it('returns BIGINT columns as numbers', async () => {
    const s = open();
    await s.migrate();
    const big = Date.now() * 10;
    await s.db
      .insertInto('users')
      .values({ ...user('u1', '1'), createdAt: big })
      .execute();
    const row = await s.db.selectFrom('users').select('createdAt').executeTakeFirstOrThrow();
    expect(row.createdAt).toBe(big);
  });

  it('rolls back a failed transaction completely', async () => {
    const s = open();
    await s.migrate();
    await expect(
      s.db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(user('u1', '1')).execute();
        await trx.insertInto('users').values(user('u2', '1')).execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    expect(await s.db.selectFrom('users').selectAll().execute()).toEqual([]);
  });
});
