import { afterEach, describe, expect, it, vi } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { userRow } from '../../../test/support/factories.js';
import { testConfig } from '../../../test/support/test-app.js';
import { loggingPostgres } from '../../../test/support/logging-db.js';
import { isUniqueViolation } from './storage-errors.js';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { isStorageUnavailable } from './storage-errors.js';
import {
  declareFinalStatement,
  finalStatement,
  GROUP_COMMIT_KEYS_KEPT,
  groupCommitFor,
  GroupCommitter,
  PipelinedGroupCommitter,
  type GroupCommit,
  type GroupCommitOptions,
} from './group-commit.js';
import { directOn, Precompiled } from './precompiled.js';
import type { Database } from './schema.js';
import { openStorage, type Storage } from './storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';

type Committer = GroupCommitter | PipelinedGroupCommitter;
type Made = new (db: Kysely<Database>, options?: GroupCommitOptions) => Committer;

/** PostgreSQL's group commit as groupCommitFor makes it: a batch's answers after the next starts. */
class AnsweringAfterNextStarts extends PipelinedGroupCommitter {
  constructor(db: Kysely<Database>, options: GroupCommitOptions = {}) {
    super(db, { ...options, answerAfterNextStarts: true });
  }
}

const COMMITTERS: Array<readonly [string, (typeof STORAGES)[number], Made]> = [
  ...STORAGES.map((kind) => ['GroupCommitter', kind, GroupCommitter] as const),
  ...(STORAGES.includes('postgres')
    ? [
        ['PipelinedGroupCommitter', 'postgres', PipelinedGroupCommitter] as const,
        [
          'PipelinedGroupCommitter answering after the next starts',
          'postgres',
          AnsweringAfterNextStarts,
        ] as const,
      ]
    : []),
];

/** Opens a migrated storage of `kind` per test (closed and removed after it). */
function freshStorage(kind: (typeof STORAGES)[number]): () => Promise<Storage> {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
    storage = undefined;
    cleanup = undefined;
  });
  return async () => {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    return storage;
  };
}

describe.each(COMMITTERS)('%s on %s', (_name, kind, Made) => {
  const open = freshStorage(kind);

  it('commits concurrent units together, each with its own result, and isolates a failing one', async () => {
    const s = await open();
    const committer = new Made(s.db);
    const results = await Promise.allSettled(
      ['1', '2', 'dup', '3', 'dup'].map((phone, i) =>
        committer.run(async (trx) => {
          await trx
            .insertInto('users')
            .values(userRow(`u${i}`, phone))
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
        await trx.insertInto('users').values(userRow('a', '10')).execute();
        await trx.insertInto('users').values(userRow('b', '10')).execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    const ok = committer.run(async (trx) =>
      trx.insertInto('users').values(userRow('c', '11')).execute(),
    );
    await ok;
    expect((await s.db.selectFrom('users').select('id').execute()).map((r) => r.id)).toEqual(['c']);
  });

  it('runs a failed batch again unit by unit: the failing one fails alone, half of it nowhere', async () => {
    const s = await open();
    const committer = new Made(s.db);
    const runs: string[] = [];
    const results = await Promise.allSettled(
      ['a', 'b', 'c'].map((name) =>
        committer.run(async (trx) => {
          runs.push(name);
          await trx
            .insertInto('users')
            .values(userRow(`${name}1`, `${name}1`))
            .execute();
          // b's second row takes a's phone: b fails after writing its first row.
          await trx
            .insertInto('users')
            .values(userRow(`${name}2`, name === 'b' ? 'a1' : `${name}2`))
            .execute();
          return name;
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isUniqueViolation((results[1] as PromiseRejectedResult).reason)).toBe(true);
    // The batch ran up to b (all of it on PostgreSQL), then each unit again alone.
    expect(runs.slice(-3)).toEqual(['a', 'b', 'c']);
    const rows = await s.db.selectFrom('users').select('id').orderBy('id').execute();
    expect(rows.map((r) => r.id)).toEqual(['a1', 'a2', 'c1', 'c2']);
  });

  it('keeps seq dense when a unit retrying a clientMsgId fails inside a batch', async () => {
    const s = await open();
    const committer = new Made(s.db);
    await s.db
      .insertInto('conversations')
      .values({ id: 'c', chatType: 1, maxSeq: 0, createdAt: 1, updatedAt: 1 })
      .execute();
    const send = (msgId: string, clientMsgId: string) =>
      committer.run(async (trx) => {
        await trx
          .updateTable('conversations')
          .set((eb) => ({ maxSeq: eb('maxSeq', '+', 1) }))
          .where('id', '=', 'c')
          .execute();
        const { maxSeq } = await trx
          .selectFrom('conversations')
          .select('maxSeq')
          .where('id', '=', 'c')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('messages')
          .values({
            id: msgId,
            conversationId: 'c',
            seq: Number(maxSeq),
            chatType: 1,
            sendId: 'u',
            recvId: 'v',
            sendTime: 1,
            mType: 1,
            content: 'x',
            clientMsgId,
          })
          .execute();
        return Number(maxSeq);
      });
    await send('m0', 'k0');
    // m2 retries k0 (already stored): it takes a seq, then fails on the unique index.
    const results = await Promise.allSettled([
      send('m1', 'k1'),
      send('m2', 'k0'),
      send('m3', 'k3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isUniqueViolation((results[1] as PromiseRejectedResult).reason)).toBe(true);
    const seqs = await s.db.selectFrom('messages').select(['id', 'seq']).orderBy('seq').execute();
    expect(seqs.map((r) => [r.id, Number(r.seq)])).toEqual([
      ['m0', 1],
      ['m1', 2],
      ['m3', 3],
    ]);
    const { maxSeq } = await s.db
      .selectFrom('conversations')
      .select('maxSeq')
      .executeTakeFirstOrThrow();
    expect(Number(maxSeq)).toBe(3);
  });

  it('runs a rider first in the next batch, or alone once it waited long enough', async () => {
    const s = await open();
    const committer = new Made(s.db);
    const order: string[] = [];
    const rider = committer.runWithNextBatch(async (trx) => {
      order.push('rider');
      await trx.insertInto('users').values(userRow('r', 'r')).execute();
    }, 10_000);
    // A rider alone starts no batch.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual([]);
    await committer.run(async (trx) => {
      order.push('unit');
      await trx.insertInto('users').values(userRow('u', 'u')).execute();
    });
    await rider;
    expect(order).toEqual(['rider', 'unit']);
    // Nothing to ride with: committed alone after withinMs.
    const started = Date.now();
    await committer.runWithNextBatch(
      (trx) => trx.insertInto('users').values(userRow('late', 'late')).execute(),
      100,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    const rows = await s.db.selectFrom('users').select('id').orderBy('id').execute();
    expect(rows.map((r) => r.id)).toEqual(['late', 'r', 'u']);
  });

  it('settles every unit only after the shared commit, in batches of at most maxBatch', async () => {
    const s = await open();
    const committer = new Made(s.db, { maxBatch: 3 });
    const order: string[] = [];
    const runs = Array.from({ length: 7 }, (_, i) =>
      committer
        .run(async (trx) => {
          order.push(`work${i}`);
          await trx
            .insertInto('users')
            .values(userRow(`u${i}`, `p${i}`))
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

  it("reads the sockets between two batches (a backlog is no turn of the event loop's own)", async () => {
    const s = await open();
    const committer = new Made(s.db, { maxBatch: 1 });
    const received: string[] = [];
    const server = createServer((socket) => socket.on('data', (d) => received.push(d.toString())));
    // A Unix socket: bytes written are in the peer's receive queue when write returns.
    const path = join(mkdtempSync(join(tmpdir(), 'gc-io-')), 's');
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    const client = connect(path);
    await Promise.all([accepted, new Promise((resolve) => client.once('connect', resolve))]);
    try {
      const seen: string[][] = [];
      await Promise.all(
        ['a', 'b', 'c'].map((id) =>
          committer.run(async (trx) => {
            seen.push([...received]);
            await trx.insertInto('users').values(userRow(id, id)).execute();
            // Readable at once; the unit holds the loop a while.
            client.write(id);
            busy(5);
          }),
        ),
      );
      // Batches of one unit: each batch saw what its predecessor sent.
      expect(seen.map((r) => r.join(''))).toEqual(['', 'a', 'ab']);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe.each(STORAGES)('GroupCommitter on %s: a batch bounded in time', (kind) => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
  });

  it('commits the units it had time for and runs the rest, in order, in the next batches', async () => {
    const made = testConfig({ storage: kind });
    cleanup = made.cleanup;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    const s = storage;
    const committer = new GroupCommitter(s.db, { maxBatch: 100, maxBatchMs: 50 });
    // Each unit's first run, with the batch it ran in (SQLite's units' handle is the
    // same object in every batch: the batch is told by the committer's count).
    const firstRuns = new Map<number, number>();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        committer.run(async (trx) => {
          if (!firstRuns.has(i)) firstRuns.set(i, committer.batchesStarted);
          await trx
            .insertInto('users')
            .values(userRow(`u${i}`, `p${i}`))
            .execute();
          busy(30);
          if (i === 4) throw new Error('unit 4 fails');
        }),
      ),
    );
    // 30 ms a unit, 50 ms a batch: once two units ran a batch is out of time, so no
    // batch ran more than two (one, if the machine is slow), in the order they came.
    expect([...firstRuns.keys()]).toEqual([0, 1, 2, 3, 4, 5]);
    const sizes = new Map<number, number>();
    for (const batch of firstRuns.values()) sizes.set(batch, (sizes.get(batch) ?? 0) + 1);
    expect(Math.max(...sizes.values())).toBeLessThanOrEqual(2);
    expect(sizes.size).toBeGreaterThanOrEqual(3);
    // Unit 4 failed its batch: it failed alone, every other unit committed.
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const rows = await s.db.selectFrom('users').select('id').orderBy('id').execute();
    expect(rows.map((r) => r.id)).toEqual(['u0', 'u1', 'u2', 'u3', 'u5']);
  });
});

describe.runIf(STORAGES.includes('postgres'))('PipelinedGroupCommitter on postgres', () => {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await storage?.close();
    await cleanup?.();
  });
  let config: ReturnType<typeof testConfig>['config'] | undefined;
  const open = async () => {
    const made = testConfig({ storage: 'postgres' });
    cleanup = made.cleanup;
    config = made.config;
    storage = openStorage(made.config, MIGRATIONS);
    await storage.migrate();
    return storage;
  };
  const insertUser = (trx: Kysely<Database>, id: string, phone: string) =>
    trx.insertInto('users').values(userRow(id, phone)).execute();
  const ids = async (s: Storage) =>
    (await s.db.selectFrom('users').select('id').orderBy('id').execute()).map((r) => r.id);
  /** Two units' inserts in a batch: BEGIN and the inserts at once, COMMIT after their answers. */
  const COMMIT_AFTER_TWO_INSERTS = [
    'sent begin',
    'sent insert',
    'sent insert',
    'answered begin',
    'answered insert',
    'answered insert',
    'sent commit',
    'answered commit',
  ];
  /** `test` on the schema through a driver that logs each query as sent and answered. */
  const logged = async (test: (db: Kysely<Database>, log: string[]) => Promise<void>) => {
    const log: string[] = [];
    const db = loggingPostgres(config!, log);
    try {
      await test(db, log);
    } finally {
      await db.destroy();
    }
  };
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

  it("sends BEGIN and the units' first statements without waiting for BEGIN's answer", async () => {
    const s = await open();
    // The same database through a driver that logs when each query is sent and answered.
    await logged(async (db, log) => {
      const committer = new PipelinedGroupCommitter(db);
      await Promise.all(['a', 'b'].map((id) => committer.run((trx) => insertUser(trx, id, id))));
      expect(log).toEqual(COMMIT_AFTER_TWO_INSERTS);
      expect(await ids(s)).toEqual(['a', 'b']);
    });
  });

  it("sends COMMIT right behind the units' last statements once every unit declared its own", async () => {
    const s = await open();
    await logged(async (db, log) => {
      const committer = new PipelinedGroupCommitter(db);
      // Each unit's one statement is its last: COMMIT leaves with them, before any answer.
      const last = (id: string) => (trx: Kysely<Database>) =>
        insertUser(declareFinalStatement(trx, 1) ?? trx, id, id);
      await Promise.all(['a', 'b'].map((id) => committer.run(last(id))));
      expect(log).toEqual([
        'sent begin',
        'sent insert',
        'sent insert',
        'sent commit',
        'answered begin',
        'answered insert',
        'answered insert',
        'answered commit',
      ]);
      // One unit that did not declare: COMMIT waits for the units, as before.
      log.length = 0;
      await Promise.all([
        committer.run(last('c')),
        committer.run((trx) => insertUser(trx, 'd', 'd')),
      ]);
      expect(log.indexOf('sent commit')).toBe(log.length - 2);
      // finalStatement: only for units that end the batch (the others declared theirs).
      const ends: boolean[] = [];
      const ending = (id: string) => async (trx: Kysely<Database>) => {
        const final = finalStatement(trx, 1);
        ends.push(final !== undefined);
        await insertUser(final ?? trx, id, id);
      };
      log.length = 0;
      await Promise.all([committer.run(last('e')), committer.run(ending('f'))]);
      expect(log.slice(0, 4)).toEqual(['sent begin', 'sent insert', 'sent insert', 'sent commit']);
      log.length = 0;
      await Promise.all([committer.run(ending('g')), committer.run(ending('h'))]);
      expect(log.indexOf('sent commit')).toBe(log.length - 2);
      expect(ends).toEqual([true, false, false]);
      expect(await ids(s)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    });
  });

  it('runs a batch whose statement failed behind its COMMIT again together, then each unit alone', async () => {
    const s = await open();
    await logged(async (db, log) => {
      const committer = new PipelinedGroupCommitter(db);
      const runs: string[] = [];
      // b fails only as a last statement with COMMIT behind it (as a strict one does).
      const unit = (id: string, failBehind: boolean) => async (trx: Kysely<Database>) => {
        runs.push(id);
        const final = declareFinalStatement(trx, 1);
        if (final && failBehind) await sql`select 1 / 0`.execute(final);
        else await insertUser(final ?? trx, id, id);
      };
      await Promise.all([committer.run(unit('a', false)), committer.run(unit('b', true))]);
      // Nothing of the first attempt was stored (COMMIT answered as ROLLBACK); the
      // second ran together, COMMIT after its units.
      expect(runs).toEqual(['a', 'b', 'a', 'b']);
      expect(log).toEqual([
        'sent begin',
        'sent insert',
        'sent select',
        'sent commit',
        'answered begin',
        'answered insert',
        'answered select',
        'answered commit',
        ...COMMIT_AFTER_TWO_INSERTS,
      ]);
      expect(await ids(s)).toEqual(['a', 'b']);
      // A unit failing in both: the second attempt fails too, then each runs alone.
      runs.length = 0;
      const outcomes = await Promise.allSettled([
        committer.run(unit('c', false)),
        committer.run((trx) => sql`select 1 / 0`.execute(declareFinalStatement(trx, 1) ?? trx)),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
      expect(runs).toEqual(['c', 'c', 'c']);
      expect(await ids(s)).toEqual(['a', 'b', 'c']);
    });
  });

  it('refuses a statement made after COMMIT was sent, and fails the whole batch', async () => {
    const s = await open();
    const committer = new PipelinedGroupCommitter(s.db);
    const runs: string[] = [];
    const outcomes = await Promise.allSettled(
      ['a', 'b'].map((id) =>
        committer.run(async (trx) => {
          runs.push(id);
          await insertUser(declareFinalStatement(trx, 1) ?? trx, id, id);
          // Breaks its word: this would run outside the transaction.
          if (id === 'b') await insertUser(trx, 'late', 'late');
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(
      /after its batch's COMMIT/,
    );
    // Nothing ran again (the batch had committed) and the late statement never ran.
    expect(runs).toEqual(['a', 'b']);
    expect(await ids(s)).toEqual(['a', 'b']);
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

  it("commits a batch while another waits on a slow commit, when their units' keys differ", async () => {
    const s = await open();
    // Batches in flight side by side (groupCommitFor's PostgreSQL keeps one).
    const committer = new PipelinedGroupCommitter(s.db, { inFlight: 3, overlapAfterMs: 3 });
    const settled: string[] = [];
    const { fire: slowStarted, fired: slowIsIn } = signal();
    const slow = committer.run(async (trx) => {
      await insertUser(trx, 'slow', 'p1');
      slowStarted();
      await sql`select pg_sleep(0.5)`.execute(trx);
      return txid(trx);
    }, 'conversation-a');
    void slow.then(() => settled.push('slow'));
    await slowIsIn;
    const quick = await committer.run(async (trx) => {
      await insertUser(trx, 'quick', 'p2');
      return txid(trx);
    }, 'conversation-b');
    settled.push('quick');
    // Committed and visible while the slow batch is still open.
    expect(await ids(s)).toEqual(['quick']);
    expect(await slow).not.toBe(quick);
    expect(settled).toEqual(['quick', 'slow']);
    expect(await ids(s)).toEqual(['quick', 'slow']);
  });

  it('keeps one batch in flight on PostgreSQL as the app makes it: a quick unit of another key waits for a slow commit', async () => {
    const s = await open();
    const committer = groupCommitFor('postgres', s.db)!;
    const settled: string[] = [];
    const { fire: slowStarted, fired: slowIsIn } = signal();
    const slow = committer
      .run(async (trx) => {
        await insertUser(trx, 'slow', 'p1');
        slowStarted();
        await sql`select pg_sleep(0.2)`.execute(trx);
      }, 'conversation-a')
      .then(() => settled.push('slow'));
    await slowIsIn;
    await committer.run((trx) => insertUser(trx, 'quick', 'p2'), 'conversation-b');
    settled.push('quick');
    await slow;
    expect(settled).toEqual(['slow', 'quick']);
    expect(await ids(s)).toEqual(['quick', 'slow']);
  });

  it("starts the next batch before answering a committed one's units, and answers in commit order (on as the app makes it)", async () => {
    const s = await open();
    const order: string[] = [];
    const run = async (committer: GroupCommit, label: string) => {
      order.length = 0;
      const { fire: slowStarted, fired: slowIsIn } = signal();
      const unit = (name: string, slow = false) =>
        committer
          .run(async (trx) => {
            order.push(`start ${name}`);
            if (slow) {
              slowStarted();
              await sql`select pg_sleep(0.1)`.execute(trx);
            }
            await insertUser(trx, `${name}-${label}`, `${name}-${label}`);
          }, name)
          .then(() => order.push(`end ${name}`));
      const runs = [unit('a', true)];
      await slowIsIn;
      runs.push(unit('b'), unit('c'));
      await Promise.all(runs);
      return [...order];
    };
    const answeredFirst = ['start a', 'end a', 'start b', 'start c', 'end b', 'end c'];
    const nextUnderWay = ['start a', 'start b', 'start c', 'end a', 'end b', 'end c'];
    // b and c waited for a's batch; with the option their batch is under way before a hears.
    const without = new PipelinedGroupCommitter(s.db, { answerAfterNextStarts: false });
    expect(await run(without, 'off')).toEqual(answeredFirst);
    const withIt = new PipelinedGroupCommitter(s.db, { answerAfterNextStarts: true });
    expect(await run(withIt, 'on')).toEqual(nextUnderWay);
    expect(await run(groupCommitFor('postgres', s.db)!, 'app')).toEqual(nextUnderWay);
    expect(await ids(s)).toHaveLength(9);
  });

  it('holds a unit whose key is in flight, and a keyless one, until that batch committed', async () => {
    const s = await open();
    const committer = new PipelinedGroupCommitter(s.db, { inFlight: 3, overlapAfterMs: 3 });
    const order: string[] = [];
    const { fire: slowStarted, fired: slowIsIn } = signal();
    const unit = (name: string, key?: string, slow = false) =>
      committer
        .run(async (trx) => {
          order.push(`start ${name}`);
          if (slow) {
            slowStarted();
            await sql`select pg_sleep(0.3)`.execute(trx);
          }
          await insertUser(trx, name, name);
        }, key)
        .then(() => order.push(`end ${name}`));
    const runs = [unit('a1', 'a', true)];
    await slowIsIn;
    // Same key: waits. Keyless: waits for every batch in flight, and nothing behind
    // it overtakes it into a batch beside one in flight, even another key.
    runs.push(unit('a2', 'a'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    runs.push(unit('any'), unit('c1', 'c'));
    await Promise.all(runs);
    expect(order).toEqual([
      'start a1',
      'end a1',
      'start a2',
      'start any',
      'start c1',
      'end a2',
      'end any',
      'end c1',
    ]);
    expect(await ids(s)).toEqual(['a1', 'a2', 'any', 'c1']);
  });

  it('still holds a key in flight after more other keys than it remembers went by', async () => {
    const s = await open();
    const committer = new PipelinedGroupCommitter(s.db, { inFlight: 3, overlapAfterMs: 3 });
    const order: string[] = [];
    const { fire: slowStarted, fired: slowIsIn } = signal();
    const slow = committer
      .run(async (trx) => {
        slowStarted();
        await sql`select pg_sleep(1)`.execute(trx);
        await insertUser(trx, 'a1', 'a1');
      }, 'a')
      .then(() => order.push('end a1'));
    await slowIsIn;
    // Committed beside it, in batches of their own: the keys of finished batches are
    // forgotten past GROUP_COMMIT_KEYS_KEPT, not that of the batch still in flight.
    const others = Array.from({ length: GROUP_COMMIT_KEYS_KEPT + 500 }, (_, i) =>
      committer.run(async () => undefined, `other-${i}`),
    );
    await Promise.all(others);
    order.push('others done');
    const again = committer
      .run(async (trx) => {
        order.push('start a2');
        await insertUser(trx, 'a2', 'a2');
      }, 'a')
      .then(() => order.push('end a2'));
    await Promise.all([slow, again]);
    expect(order).toEqual(['others done', 'end a1', 'start a2', 'end a2']);
    expect(await ids(s)).toEqual(['a1', 'a2']);
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

/** A one-shot signal: `fired` settles once `fire` has been called. */
function signal(): { fire: () => void; fired: Promise<void> } {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

/** Holds the event loop for `ms`, as a unit's synchronous SQL and JavaScript do. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spinning
  }
}

/**
 * On SQLite a unit may answer synchronously (UnitOfWork: the usual single-chat send
 * runs its statements straight on the handle). Such units keep group commit's failure
 * semantics exactly: a failing one rolls its batch back and every unit runs again
 * alone, a unique violation fails only its own unit, and a busy database fails the
 * whole batch as unavailable (503) with nothing stored and nothing run again.
 */
describe('GroupCommitter on sqlite: units that answer synchronously', () => {
  const open = freshStorage('sqlite');
  const INSERT_USER = new Precompiled(
    `insert into users (id, phone, password_hash, nickname, avatar, created_at, updated_at)
     values (?, ?, 'x', 'n', '', 1, 1)`,
  );
  /** A unit that inserts users straight on the handle, without a promise. */
  const syncUnit =
    (runs: string[], name: string, phones: string[], fail?: Error) => (trx: Kysely<Database>) => {
      runs.push(name);
      phones.forEach((phone, i) => directOn(INSERT_USER, trx).run([`${name}${i}`, phone]));
      if (fail) throw fail;
      return name;
    };
  const ids = async (s: Storage) =>
    (await s.db.selectFrom('users').select('id').orderBy('id').execute()).map((r) => r.id);

  it('commits synchronous and asynchronous units together, each with its own result', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const runs: string[] = [];
    const results = await Promise.all([
      committer.run(syncUnit(runs, 'a', ['1']), 'k1'),
      committer.run(async (trx) => {
        runs.push('b');
        await trx.insertInto('users').values(userRow('b0', '2')).execute();
        return 'b';
      }, 'k2'),
      committer.run(syncUnit(runs, 'c', ['3', '4']), 'k3'),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    // One batch, each unit run once.
    expect(runs).toEqual(['a', 'b', 'c']);
    expect(await ids(s)).toEqual(['a0', 'b0', 'c0', 'c1']);
  });

  it('runs a batch again unit by unit when a synchronous unit fails on a unique violation', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const runs: string[] = [];
    // b writes its first row, then its second takes a's phone.
    const results = await Promise.allSettled([
      committer.run(syncUnit(runs, 'a', ['1']), 'k1'),
      committer.run(syncUnit(runs, 'b', ['2', '1']), 'k2'),
      committer.run(syncUnit(runs, 'c', ['3']), 'k3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(isUniqueViolation((results[1] as PromiseRejectedResult).reason)).toBe(true);
    // The batch ran up to b, was rolled back, then each unit ran alone in order.
    expect(runs).toEqual(['a', 'b', 'a', 'b', 'c']);
    // Nothing of b, not even the row it wrote before failing.
    expect(await ids(s)).toEqual(['a0', 'c0']);
  });

  it('fails only the unit that threw synchronously, after its batch is rolled back', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const runs: string[] = [];
    const results = await Promise.allSettled([
      committer.run(syncUnit(runs, 'a', ['1']), 'k1'),
      committer.run(syncUnit(runs, 'b', ['2'], new Error('b fails')), 'k2'),
      committer.run(syncUnit(runs, 'c', ['3']), 'k3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('b fails'));
    expect(await ids(s)).toEqual(['a0', 'c0']);
  });

  it('fails every unit of a batch as unavailable when SQLite is busy, storing nothing', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const runs: string[] = [];
    // What better-sqlite3 throws when another process holds the write lock too long.
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const results = await Promise.allSettled([
      committer.run(syncUnit(runs, 'a', ['1']), 'k1'),
      committer.run(syncUnit(runs, 'b', ['2'], busy), 'k2'),
      committer.run(syncUnit(runs, 'c', ['3']), 'k3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) {
      expect(isStorageUnavailable((r as PromiseRejectedResult).reason)).toBe(true);
    }
    // Nothing ran again (c never ran: the batch stopped at b) and nothing was stored.
    expect(runs).toEqual(['a', 'b']);
    expect(await ids(s)).toEqual([]);
    // And the committer goes on.
    await expect(committer.run(syncUnit(runs, 'd', ['4']), 'k4')).resolves.toBe('d');
    expect(await ids(s)).toEqual(['d0']);
  });
});

/**
 * On SQLite the group commit runs its batches' transactions on the connection itself
 * (DirectTransaction): no Kysely transaction per batch, one units' handle for every
 * batch, and the connection taken in turn with Kysely's own queries and transactions.
 */
describe('GroupCommitter on sqlite: transactions on the connection itself', () => {
  const open = freshStorage('sqlite');
  const ids = async (s: Storage) =>
    (await s.db.selectFrom('users').select('id').orderBy('id').execute()).map((r) => r.id);

  it('starts no Kysely transaction per batch and hands every batch the same transaction handle', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const startTransaction = vi.spyOn(s.db, 'startTransaction');
    const transaction = vi.spyOn(s.db, 'transaction');
    const handles: Array<Kysely<Database>> = [];
    const unit = (id: string) => async (trx: Kysely<Database>) => {
      handles.push(trx);
      await trx.insertInto('users').values(userRow(id, id)).execute();
    };
    await Promise.all([committer.run(unit('a')), committer.run(unit('b'))]);
    await committer.run(unit('c'));
    expect(committer.batchesStarted).toBe(2);
    expect(startTransaction).not.toHaveBeenCalled();
    expect(transaction).not.toHaveBeenCalled();
    expect(new Set(handles).size).toBe(1);
    expect(handles[0]!.isTransaction).toBe(true);
    expect(await ids(s)).toEqual(['a', 'b', 'c']);
  });

  it("lets a unit's Kysely query see the batch's writes before COMMIT, and no one else", async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const INSERT = new Precompiled(
      `insert into users (id, phone, password_hash, nickname, avatar, created_at, updated_at)
       values (?, ?, 'x', 'n', '', 1, 1)`,
    );
    let outside: Promise<string[]> | undefined;
    const seen = await Promise.all([
      // Straight on the handle, synchronously.
      committer.run((trx) => directOn(INSERT, trx).run(['a', '1'])),
      committer.run(async (trx) => {
        await trx.insertInto('users').values(userRow('b', '2')).execute();
        // A query outside the batch, made while its transaction is open: it waits
        // for the connection and sees only what was committed.
        outside ??= ids(s);
        return (await trx.selectFrom('users').select('id').orderBy('id').execute()).map(
          (r) => r.id,
        );
      }),
    ]);
    expect(seen[1]).toEqual(['a', 'b']);
    expect(await outside).toEqual(['a', 'b']);
    expect(committer.batchesStarted).toBe(1);
  });

  it('keeps a query outside the batch out of a batch that is rolled back', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    let outside: Promise<string[]> | undefined;
    const results = await Promise.allSettled([
      committer.run(async (trx) => {
        await trx.insertInto('users').values(userRow('a', '1')).execute();
      }),
      committer.run(async (trx) => {
        await trx.insertInto('users').values(userRow('b', '2')).execute();
        outside ??= ids(s);
        // Yields to the outside query: were it let onto the connection now, it would
        // read b inside the transaction.
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new Error('b fails');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    // It ran after the batch's ROLLBACK (before or after a's rerun), never inside it.
    expect(await outside).not.toContain('b');
    expect(await ids(s)).toEqual(['a']);
  });

  it('waits for a Kysely transaction holding the connection, then commits the batch', async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const COUNT = new Precompiled<{ n: number }>('select count(*) as n from users');
    const order: string[] = [];
    const { sent } = await s.db.transaction().execute(async (trx) => {
      await trx.insertInto('users').values(userRow('k', '1')).execute();
      // The batch is due meanwhile (next turn) and must not run inside this transaction.
      const unit = committer.run((unitTrx) => {
        order.push('unit');
        return directOn(COUNT, unitTrx).first([])?.n;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('kysely commits');
      // Not awaited here: the batch waits for this transaction's connection.
      return { sent: unit };
    });
    // The unit ran after the Kysely transaction committed, and saw its row.
    expect(await sent).toBe(1);
    expect(order).toEqual(['kysely commits', 'unit']);
  });

  it("refuses a unit's handle used after its batch committed", async () => {
    const s = await open();
    const committer = new GroupCommitter(s.db);
    const kept = await committer.run((trx) => trx);
    await expect(kept.selectFrom('users').select('id').execute()).rejects.toThrow(
      /outside its batch's transaction/,
    );
    // The committer and the store go on.
    await committer.run((trx) => trx.insertInto('users').values(userRow('a', '1')).execute());
    expect(await ids(s)).toEqual(['a']);
  });
});
