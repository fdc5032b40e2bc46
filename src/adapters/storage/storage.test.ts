import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { userRow } from '../../../test/support/factories.js';
import { testConfig } from '../../../test/support/test-app.js';
import { autovacuumIsOff, openStorage, type Storage } from './storage.js';
import { MIGRATIONS } from '../../catalogue/migrations.js';
import { isUniqueViolation } from './storage-errors.js';
import { onHeldConnection, Precompiled, runsDirect } from './precompiled.js';

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

  it('runs precompiled statements in the caller transaction, camelCased; named on PostgreSQL', async () => {
    const s = open();
    await s.migrate();
    const insert = new Precompiled(
      `insert into users (id, phone, nickname, password_hash, sex, avatar, status, created_at,
         updated_at) values (?, ?, 'n', 'h', 0, '', 0, 1, 1)`,
    );
    const byId = new Precompiled<{ id: string; passwordHash: string }>(
      'select id, password_hash from users where id = ?',
    );
    await s.db
      .transaction()
      .execute(async (trx) => {
        await insert.execute(trx, ['p1', '+100']);
        expect(await byId.first(trx, ['p1'])).toEqual({ id: 'p1', passwordHash: 'h' });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await byId.first(s.db, ['p1'])).toBeUndefined();
    expect(await insert.affected(s.db, ['p2', '+200'])).toBe(1);
    if (kind !== 'postgres') return;
    // The same connection runs it again as the statement it prepared the first time.
    await s.db.connection().execute(async (conn) => {
      await byId.first(conn, ['p2']);
      await byId.first(conn, ['p2']);
      const named = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements`.execute(conn);
      expect(
        named.rows.find((r) => r.statement.includes('select id, password_hash'))?.name,
      ).toMatch(/^ec_\d+$/);
    });
  });

  it('answers a statement marked fieldNames with its rows as the driver names them, uncamelCased', async () => {
    const s = open();
    await s.migrate();
    await new Precompiled(
      `insert into users (id, phone, nickname, password_hash, sex, avatar, status, created_at,
         updated_at) values ('p1', '+100', 'n', 'h', 0, '', 0, 1, 1)`,
    ).execute(s.db, []);
    const text = 'select id, phone as "phoneNumber", password_hash from users where id = ?';
    // password_hash is left as it comes: proof that no plugin mapped the row.
    expect(await new Precompiled(text, { fieldNames: true }).first(s.db, ['p1'])).toStrictEqual({
      id: 'p1',
      phoneNumber: '+100',
      password_hash: 'h',
    });
    expect(await new Precompiled(text).first(s.db, ['p1'])).toStrictEqual({
      id: 'p1',
      phoneNumber: '+100',
      passwordHash: 'h',
    });
    // In a transaction too (on SQLite the direct statement, which camelCases its
    // column names once: a statement meant for fieldNames names every column as its field).
    await s.db.transaction().execute(async (trx) => {
      const aliased = new Precompiled<{ phoneNumber: string }>(
        'select phone as "phoneNumber" from users where id = ?',
        { fieldNames: true },
      );
      expect(await aliased.first(trx, ['p1'])).toStrictEqual({ phoneNumber: '+100' });
    });
  });

  it.runIf(kind === 'sqlite')(
    'runs a precompiled statement on the database of the transaction it is given, whichever it was given last',
    async () => {
      const a = open();
      const other = testConfig({ storage: kind });
      const b = openStorage(other.config, MIGRATIONS);
      try {
        await a.migrate();
        await b.migrate();
        const insert = new Precompiled(
          `insert into users (id, phone, nickname, password_hash, sex, avatar, status,
             created_at, updated_at) values (?, ?, 'n', 'h', 0, '', 0, 1, 1)`,
        );
        const count = new Precompiled<{ n: number }>('select count(*) as n from users');
        await a.db.transaction().execute(async (trxA) => {
          await b.db.transaction().execute(async (trxB) => {
            // Direct on each handle (synchronous), alternating between them.
            insert.on(trxA)!.write(['a1', '+1']);
            insert.on(trxB)!.write(['b1', '+2']);
            insert.on(trxB)!.write(['b2', '+3']);
            insert.on(trxA)!.write(['a2', '+4']);
            insert.on(trxB)!.write(['b3', '+5']);
            // Outside a transaction: no direct statement, whatever ran before.
            expect(insert.on(a.db)).toBeUndefined();
            expect(insert.on(trxA)).toBeDefined();
          });
        });
        expect((await count.first(a.db, []))?.n).toBe(2);
        expect((await count.first(b.db, []))?.n).toBe(3);
      } finally {
        await b.close();
        await other.cleanup();
      }
    },
  );

  it('runs precompiled statements on a held connection after, never inside, an open transaction', async () => {
    const s = open();
    await s.migrate();
    const insert = new Precompiled(
      `insert into users (id, phone, nickname, password_hash, sex, avatar, status, created_at,
         updated_at) values (?, ?, 'n', 'h', 0, '', 0, 1, 1)`,
    );
    const count = new Precompiled<{ n: number }>('select count(*) as n from users');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const written = new Promise<void>((resolve) => (inserted = resolve));
    // A transaction left open across turns, as a group commit's batch is.
    const rolledBack = s.db
      .transaction()
      .execute(async (trx) => {
        await insert.execute(trx, ['p1', '+100']);
        inserted();
        await gate;
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await written;
    let read = false;
    const reading = onHeldConnection(s.db, async (held) => {
      // SQLite: straight on the handle, which the held connection keeps to itself.
      expect(runsDirect(held)).toBe(kind === 'sqlite');
      expect(count.on(held) !== undefined).toBe(kind === 'sqlite');
      read = true;
      return (await count.first(held, []))?.n;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // SQLite's one connection is the transaction's until it ends.
    expect(read).toBe(kind !== 'sqlite');
    release();
    await rolledBack;
    // Never the uncommitted row: a direct statement outside the hold would have run inside
    // the open transaction and counted it.
    expect(Number(await reading)).toBe(0);
  });

  it('answers precompiled statements in a transaction as Kysely would: rows changed, unique violations', async () => {
    const s = open();
    await s.migrate();
    const insert = new Precompiled(
      `insert into users (id, phone, nickname, password_hash, sex, avatar, status, created_at,
         updated_at) values (?, ?, 'n', 'h', 0, '', 0, 1, 1)`,
    );
    const rename = new Precompiled('update users set nickname = ? where phone like ?');
    const named = new Precompiled<{ createdAt: number; nickname: string }>(
      'select created_at, nickname from users where id = ?',
    );
    await s.db.transaction().execute(async (trx) => {
      await insert.execute(trx, ['d1', '+301']);
      await insert.execute(trx, ['d2', '+302']);
      expect(await rename.affected(trx, ['m', '+30%'])).toBe(2);
      expect(await named.first(trx, ['d1'])).toEqual({ createdAt: 1, nickname: 'm' });
    });
    expect((await named.first(s.db, ['d2']))?.nickname).toBe('m');
    const refused = await s.db
      .transaction()
      .execute((trx) => insert.execute(trx, ['d3', '+301']))
      .catch((err: unknown) => err);
    expect(isUniqueViolation(refused)).toBe(true);
  });

  it.runIf(kind === 'postgres')(
    'keeps its connections through a lull (storage.postgres.idleTimeoutMs), closes them after it',
    async () => {
      const backends = async (idleTimeoutMs?: number) => {
        const made = testConfig({ storage: kind });
        cleanup = made.cleanup;
        const name = `idle-${idleTimeoutMs ?? 'default'}-${process.pid}-${Date.now()}`;
        made.config.nodeId = name;
        if (idleTimeoutMs !== undefined) made.config.storage.postgres.idleTimeoutMs = idleTimeoutMs;
        storage = openStorage(made.config, MIGRATIONS);
        const { db } = storage;
        // Three connections at once, then a lull longer than pg's own default would allow
        // at this scale (the default is 10 s; here 150 ms against 10 minutes).
        await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.05)`.execute(db)));
        await new Promise((r) => setTimeout(r, 500));
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where application_name = ${`easy-chat:${name}`}`.execute(db);
        await storage.close();
        await cleanup();
        storage = undefined;
        cleanup = undefined;
        return rows[0]!.n;
      };
      // The default keeps all three; with 150 ms only the one that asked is open.
      expect(await backends()).toBe(3);
      expect(await backends(150)).toBe(1);
    },
  );

  it.runIf(kind === 'postgres')('tells whether the server runs without autovacuum', async () => {
    const s = open();
    await s.migrate();
    const { rows } = await sql<{ setting: string }>`
      select setting from pg_settings where name = 'autovacuum'`.execute(s.db);
    expect(await autovacuumIsOff(s.db)).toBe(rows[0]!.setting === 'off');
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
    await s.db.insertInto('users').values(userRow('u1', '100')).execute();
  });

  it('recognises unique violations on this engine', async () => {
    const s = open();
    await s.migrate();
    await s.db.insertInto('users').values(userRow('u1', '100')).execute();
    const duplicate = await s.db
      .insertInto('users')
      .values(userRow('u2', '100'))
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
      .values({ ...userRow('u1', '1'), createdAt: big })
      .execute();
    const row = await s.db.selectFrom('users').select('createdAt').executeTakeFirstOrThrow();
    expect(row.createdAt).toBe(big);
  });

  it('rolls back a failed transaction completely', async () => {
    const s = open();
    await s.migrate();
    await expect(
      s.db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(userRow('u1', '1')).execute();
        await trx.insertInto('users').values(userRow('u2', '1')).execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    expect(await s.db.selectFrom('users').selectAll().execute()).toEqual([]);
  });

  it.runIf(kind === 'mysql')(
    'runs a transaction that lost a deadlock again, so both writers succeed',
    async () => {
      const s = open();
      await s.migrate();
      await s.db
        .insertInto('users')
        .values([userRow('u1', '1'), userRow('u2', '2')])
        .execute();
      // Each transaction locks one row, waits until the other holds its row, then asks
      // for the other's: InnoDB aborts one with ER_LOCK_DEADLOCK, which must run again.
      let attempts = 0;
      let arrived = 0;
      let release!: () => void;
      const bothHoldOne = new Promise<void>((resolve) => (release = resolve));
      const swap = (first: string, second: string, nickname: string) =>
        s.db.transaction().execute(async (trx) => {
          attempts += 1;
          const retry = attempts > 2;
          await trx.updateTable('users').set({ nickname }).where('id', '=', first).execute();
          if (!retry) {
            arrived += 1;
            if (arrived === 2) release();
            await bothHoldOne;
          }
          await trx.updateTable('users').set({ nickname }).where('id', '=', second).execute();
        });
      await Promise.all([swap('u1', 'u2', 'a'), swap('u2', 'u1', 'b')]);
      expect(attempts).toBe(3);
      const names = (await s.db.selectFrom('users').select('nickname').execute()).map(
        (r) => r.nickname,
      );
      // The retried transaction committed last: both rows carry its name.
      expect(new Set(names).size).toBe(1);
      expect(['a', 'b']).toContain(names[0]);
    },
  );
});
