import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { isUniqueViolation } from '../../adapters/storage/storage-errors.js';
import { pairKey } from './social.entity.js';

/**
 * The "exactly one" rules hold in the schema itself, whatever a service does:
 * writes that would break them are refused by the database on both engines.
 */
describe.each(STORAGES)('social constraints on %s', (kind) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
  });
  afterAll(async () => {
    await storage.close();
    await cleanup();
  });

  const refused = async (write: Promise<unknown>) => {
    const err = await write.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isUniqueViolation(err), String(err)).toBe(true);
  };

  it('one friendship row per direction', async () => {
    const row = { userId: 'a1', friendUid: 'b1', remark: '', addSource: 1, createdAt: 1 };
    await storage.db.insertInto('friends').values(row).execute();
    await storage.db
      .insertInto('friends')
      .values({ ...row, userId: 'b1', friendUid: 'a1' })
      .execute();
    await refused(storage.db.insertInto('friends').values(row).execute());
  });

  it('one pending friend request per pair, in either direction', async () => {
    const request = (id: string, from: string, to: string, handleResult: number) => ({
      id,
      userId: to,
      reqUid: from,
      pairKey: pairKey(from, to),
      reqMsg: '',
      reqTime: 1,
      handleResult,
      handledAt: null,
    });
    const db = storage.db;
    await db
      .insertInto('friendRequests')
      .values(request('r1', 'a2', 'b2', 1))
      .execute();
    await refused(
      db
        .insertInto('friendRequests')
        .values(request('r2', 'a2', 'b2', 1))
        .execute(),
    );
    await refused(
      db
        .insertInto('friendRequests')
        .values(request('r3', 'b2', 'a2', 1))
        .execute(),
    );
    // Handled requests do not count: history may hold many.
    await db
      .insertInto('friendRequests')
      .values(request('r4', 'a2', 'b2', 3))
      .execute();
    await db
      .insertInto('friendRequests')
      .values(request('r5', 'b2', 'a2', 4))
      .execute();
  });

  it('one membership per (group, user) and one creator per group', async () => {
    const member = (userId: string, roleLevel: number) => ({
      groupId: 'g1',
      userId,
      roleLevel,
      joinTime: 1,
      joinSource: 2,
      inviterUid: null,
      operatorUid: null,
    });
    const db = storage.db;
    await db.insertInto('groupMembers').values(member('u1', 1)).execute();
    await db.insertInto('groupMembers').values(member('u2', 3)).execute();
    await refused(db.insertInto('groupMembers').values(member('u2', 2)).execute());
    await refused(db.insertInto('groupMembers').values(member('u3', 1)).execute());
    await refused(
      db.updateTable('groupMembers').set({ roleLevel: 1 }).where('userId', '=', 'u2').execute(),
    );
  });

  it('one pending join request per (group, user)', async () => {
    const request = (id: string, handleResult: number) => ({
      id,
      groupId: 'g2',
      reqId: 'u1',
      reqMsg: '',
      reqTime: 1,
      joinSource: 2,
      inviterUid: null,
      handleUid: null,
      handleResult,
      handledAt: null,
    });
    const db = storage.db;
    await db.insertInto('groupRequests').values(request('q1', 1)).execute();
    await refused(db.insertInto('groupRequests').values(request('q2', 1)).execute());
    await db.insertInto('groupRequests').values(request('q3', 3)).execute();
  });
});
