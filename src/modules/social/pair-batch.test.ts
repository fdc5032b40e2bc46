import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { testConfig } from '../../../test/support/test-app.js';
import type { Database } from '../../adapters/storage/schema.js';
import { isStorageUnavailable } from '../../adapters/storage/storage-errors.js';
import { openStorage, type Storage } from '../../adapters/storage/storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { BlacklistRepository } from './blacklist.repository.js';
import { FriendRepository } from './friend.repository.js';
import { GroupRepository } from './group.repository.js';
import { SocialDirectory } from './social-directory.js';

/** Counts the statements run through it and, while `failing` is set, fails them as an outage would. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  failing: Error | undefined;
  transformQuery: KyselyPlugin['transformQuery'] = (args) => args.node;
  transformResult: KyselyPlugin['transformResult'] = async (args) => {
    this.count += 1;
    if (this.failing) throw this.failing;
    return args.result;
  };
}

/**
 * Friendship and block questions asked in one turn (a burst of first sends after a
 * quiet spell) go to the database as one statement each, and every caller gets
 * the answer its own single-pair question would have had.
 */
describe.each(STORAGES)('SocialDirectory batching on %s', (kind) => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  let counter: StatementCounter;
  let dir: SocialDirectory;
  beforeAll(async () => {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    counter = new StatementCounter();
    const db = storage.db.withPlugin(counter);
    dir = new SocialDirectory({
      friends: new FriendRepository(db),
      groups: new GroupRepository(db),
      blacklist: new BlacklistRepository(db),
    });
    // Pair i: friends when i % 3 === 0 (both directions), one-way row only when i % 3 === 1
    // (never written so by the service, but it shows the direction asked is kept);
    // blocked by the first user when i % 4 === 0, by the second when i % 4 === 1.
    const friends = [];
    const blocks = [];
    for (let i = 0; i < 60; i++) {
      const [a, b] = pair(i);
      if (i % 3 === 0) friends.push(row(a, b), row(b, a));
      if (i % 3 === 1) friends.push(row(a, b));
      if (i % 4 === 0) blocks.push({ userId: a, blockedUid: b, createdAt: 1 });
      if (i % 4 === 1) blocks.push({ userId: b, blockedUid: a, createdAt: 1 });
    }
    await storage.db.insertInto('friends').values(friends).execute();
    await storage.db.insertInto('blacklist').values(blocks).execute();
  });
  afterAll(async () => {
    await storage.close();
    await cleanup();
  });

  const pair = (i: number) => [`pa${i}`, `pb${i}`] as const;
  const row = (userId: string, friendUid: string): Database['friends'] => ({
    userId,
    friendUid,
    remark: '',
    addSource: 1,
    createdAt: 1,
  });
  const indexes = Array.from({ length: 60 }, (_, i) => i);

  it('answers many pairs asked in one turn with one statement, each its own answer', async () => {
    counter.count = 0;
    const [forward, backward] = await Promise.all([
      Promise.all(indexes.map((i) => dir.areFriends(...pair(i)))),
      Promise.all(indexes.map((i) => dir.areFriends(pair(i)[1], pair(i)[0]))),
    ]);
    expect(counter.count).toBe(1);
    expect(forward).toEqual(indexes.map((i) => i % 3 !== 2));
    expect(backward).toEqual(indexes.map((i) => i % 3 === 0));

    counter.count = 0;
    const [ownerFirst, otherFirst] = await Promise.all([
      Promise.all(indexes.map((i) => dir.isBlocked(...pair(i)))),
      Promise.all(indexes.map((i) => dir.isBlocked(pair(i)[1], pair(i)[0]))),
    ]);
    expect(counter.count).toBe(1);
    expect(ownerFirst).toEqual(indexes.map((i) => i % 4 === 0));
    expect(otherFirst).toEqual(indexes.map((i) => i % 4 === 1));
  });

  it('asks a pair asked twice in one turn once, and a lone question alone', async () => {
    counter.count = 0;
    const answers = await Promise.all([
      dir.areFriends('pa0', 'pb0'),
      dir.areFriends('pa0', 'pb0'),
      dir.areFriends('pa2', 'pb2'),
    ]);
    expect(answers).toEqual([true, true, false]);
    expect(counter.count).toBe(1);
    // Questions of separate turns are separate statements.
    expect(await dir.isBlocked('pa0', 'pb0')).toBe(true);
    expect(await dir.isBlocked('pa1', 'pb1')).toBe(false);
    expect(counter.count).toBe(3);
  });

  it('splits a very large turn into statements of bounded size', async () => {
    counter.count = 0;
    const many = Array.from({ length: 450 }, (_, i) => dir.areFriends(`x${i}`, `y${i}`));
    expect(await Promise.all(many)).toEqual(many.map(() => false));
    expect(counter.count).toBe(3);
  });

  it('rejects every caller of a failed batch with the storage error, then answers again', async () => {
    const outage = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    counter.failing = outage;
    const settled = await Promise.allSettled([
      ...indexes.map((i) => dir.areFriends(...pair(i))),
      ...indexes.map((i) => dir.isBlocked(...pair(i))),
      dir.areFriends('pa0', 'pb0'),
    ]);
    counter.failing = undefined;
    for (const result of settled) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBe(outage);
      expect(isStorageUnavailable(reason)).toBe(true);
    }
    expect(await dir.areFriends('pa0', 'pb0')).toBe(true);
    expect(await dir.isBlocked('pa0', 'pb0')).toBe(true);
  });
});
