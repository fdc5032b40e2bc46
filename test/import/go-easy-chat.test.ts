import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropMysqlDatabase } from '../../src/adapters/storage/mysql.js';
import { GoSource } from '../../src/import/go-easy-chat/go-source.js';
import { importGoEasyChat, type ImportSummary } from '../../src/import/go-easy-chat/importer.js';
import { STORAGES, TEST_MYSQL_URL, mysqlUrlFor, uniqueName } from '../support/backends.js';
import { suiteApp } from '../support/suite-app.js';
import type { TestApp } from '../support/test-app.js';

/**
 * A Go easy-chat database of the test's own (the seed's DDL, generated rows and
 * the seed's known bad data) imported into easy-chat on every engine, then used:
 * an imported user logs in with the password the Go system hashed with bcrypt and
 * chats with an imported friend.
 */

const root = new URL('../..', import.meta.url).pathname;
const DDL = readFileSync(join(root, 'test/import/go-easy-chat.sql'), 'utf8');

/** Ids as the Go system's wuid makes them: fmt.Sprintf("%#016x", n). */
const goId = (n: number) => `0x${(0x1_0000_0000 + n).toString(16).padStart(16, '0')}`;
/** Go's bcrypt.GenerateFromPassword writes $2a$ hashes (cost 4 keeps the test quick). */
const goHash = (password: string) => bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2a$');

const ALICE = goId(1);
const BOB = goId(2);
const NOBODY = goId(999);
const FILLERS = 30;
const at = (iso: string) => new Date(iso);

async function fillGoDatabase(db: Connection): Promise<void> {
  for (const statement of DDL.split(';').filter((s) => /create table/i.test(s))) {
    await db.query(statement);
  }
  const users: unknown[][] = [
    [ALICE, 'a.png', 'Alice 🐱', '13800000001', goHash('go-pass-1'), null, 2],
    [BOB, '', 'Bob', '13800000002', goHash('go-pass-2'), null, 1],
    [goId(3), '', 'Carol', '13800000003', goHash('x'), null, null],
    [goId(4), '', 'Dan', '13800000004', goHash('x'), 0, 1],
    [goId(5), '', 'Eve', '13800000005', goHash('x'), null, 2],
    [goId(6), '', 'Fay', '13800000006', goHash('x'), null, 2],
    [goId(7), '', 'Gus', '13800000007', goHash('x'), null, 1],
    [goId(8), '', 'Hal', '13800000008', goHash('x'), null, 1],
    [goId(9), '', 'Ivy', '13800000009', goHash('x'), 1, 2],
    // The Go system checks phones in code only: a second account with Carol's phone.
    [goId(11), '', 'Carol again', '13800000003', goHash('x'), null, null],
    // Made without a password (an admin insert, say).
    [goId(12), '', 'No Password', '13800000012', null, null, null],
  ];
  for (let i = 0; i < FILLERS; i += 1) {
    users.push([
      goId(100 + i),
      '',
      `filler${i}`,
      `1390000${String(i).padStart(4, '0')}`,
      '$2a$04$x',
      null,
      0,
    ]);
  }
  await db.query(
    'insert into users (id, avatar, nickname, phone, password, status, sex, created_at, updated_at) values ?',
    [users.map((u) => [...u, at('2024-01-02T03:04:05Z'), at('2024-02-03T04:05:06Z')])],
  );

  const friends: unknown[][] = [
    [ALICE, BOB, 'bestie'],
    [BOB, ALICE, null],
    // The seed's duplicate friend rows (no unique key on friends).
    [ALICE, BOB, 'bestie'],
    // One direction only.
    [goId(3), goId(4), null],
    [goId(5), goId(5), null],
    [ALICE, NOBODY, null],
    [goId(11), ALICE, null],
  ];
  for (let i = 0; i + 1 < FILLERS; i += 2) {
    friends.push([goId(100 + i), goId(101 + i), null], [goId(101 + i), goId(100 + i), null]);
  }
  await db.query(
    'insert into friends (user_id, friend_uid, remark, add_source, created_at) values ?',
    [friends.map((f) => [...f, 1, at('2024-03-01T00:00:00Z')])],
  );

  // [addressee, sender, handle_result]
  await db.query(
    'insert into friend_requests (user_id, req_uid, req_msg, req_time, handle_result, handled_at) values ?',
    [
      [
        [goId(7), goId(6), 'hi', at('2024-03-02T00:00:00Z'), 1, null],
        [goId(6), goId(7), 'me too', at('2024-03-02T00:01:00Z'), 1, null],
        [ALICE, BOB, 'be my friend', at('2024-02-28T00:00:00Z'), 2, at('2024-03-01T00:00:00Z')],
        // The seed's requests nobody could handle: no handle_result at all.
        [goId(9), goId(8), null, at('2024-03-03T00:00:00Z'), null, null],
        [goId(5), goId(3), 'no', at('2024-03-04T00:00:00Z'), 3, null],
      ],
    ],
  );

  await db.query(
    'insert into `groups` (id, name, icon, status, creator_uid, group_type, is_verify, notification, notification_uid, created_at, updated_at) values ?',
    [
      [
        ['g1', 'Cats 🐈', 'cat.png', null, ALICE, 1, true, 'be nice', ALICE],
        ['g2', 'Dogs', '', null, goId(4), 1, false, null, null],
        ['g3', 'Ghosts', '', null, NOBODY, 1, false, null, null],
      ].map((g) => [...g, at('2024-01-05T00:00:00Z'), null]),
    ],
  );
  // [group, user, role]
  await db.query(
    'insert into group_members (group_id, user_id, role_level, join_time, join_source) values ?',
    [
      [
        ['g1', ALICE, 1],
        ['g1', BOB, 3],
        ['g1', goId(3), 3],
        ['g1', BOB, 3],
        // g2's creator (Dan) has no member row; Eve is marked creator too.
        ['g2', goId(5), 1],
        ['g3', BOB, 3],
      ].map((m) => [...m, at('2024-01-06T00:00:00Z'), 2]),
    ],
  );
  // [user, group, handle_result]: Go's handler never fills handle_user_id.
  await db.query(
    'insert into group_requests (req_id, group_id, req_msg, req_time, join_source, handle_result, handle_time) values ?',
    [
      [
        [goId(6), 'g1', 'let me in', at('2024-03-05T00:00:00Z'), 2, 1, null],
        [goId(7), 'g1', null, at('2024-03-05T00:00:00Z'), 2, 2, at('2024-03-06T00:00:00Z')],
        [goId(8), 'g1', null, at('2024-03-05T00:00:00Z'), 2, null, null],
        [goId(6), 'g1', 'again', at('2024-03-07T00:00:00Z'), 2, 1, null],
      ],
    ],
  );
}

const total = (s: ImportSummary[keyof ImportSummary]) => s.imported + s.present;

async function counts(t: TestApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of [
    'users',
    'friends',
    'friendRequests',
    'groups',
    'groupMembers',
    'groupRequests',
  ] as const) {
    const row = await t.app.storage.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}

describe.runIf(TEST_MYSQL_URL)('import from the Go easy-chat', () => {
  const sourceUrl = TEST_MYSQL_URL ? mysqlUrlFor(uniqueName('go').toLowerCase()) : '';
  let source: GoSource;

  beforeAll(async () => {
    const server = new URL(sourceUrl);
    const database = server.pathname.slice(1);
    server.pathname = '/';
    const admin = await createConnection({ uri: server.toString(), charset: 'UTF8MB4_GENERAL_CI' });
    await admin.query(`create database \`${database}\` character set utf8mb4`);
    await admin.end();
    const db = await createConnection({
      uri: sourceUrl,
      charset: 'UTF8MB4_GENERAL_CI',
      timezone: 'Z',
    });
    await db.query("set session time_zone = '+00:00'");
    await fillGoDatabase(db);
    await db.end();
    source = await GoSource.open(sourceUrl);
  }, 60_000);
  afterAll(async () => {
    await source?.close();
    if (sourceUrl) await dropMysqlDatabase(sourceUrl);
  });

  describe.each(STORAGES)('into %s', (storage) => {
    const { t, connect } = suiteApp({ storage });

    it('imports once, resumes after an interruption and changes nothing the second time', async () => {
      // Interrupted after two batches: what was written stays.
      const abort = new AbortController();
      let batches = 0;
      await expect(
        importGoEasyChat(source, t.app.storage.db, {
          batchSize: 7,
          signal: abort.signal,
          progress: {
            table: () => undefined,
            advance: () => {
              batches += 1;
              if (batches === 2) abort.abort();
            },
            done: () => undefined,
          },
        }),
      ).rejects.toThrow();
      // The first 14 rows in id order, less the second account with Carol's phone.
      expect((await counts(t)).users).toBe(13);

      const summary = await importGoEasyChat(source, t.app.storage.db, { batchSize: 7 });
      const users = 9 + FILLERS + 1;
      expect(summary.users).toMatchObject({
        read: users + 1,
        present: 13,
        imported: users - 13,
        skipped: { [`phone already used by ${goId(3)}`]: 1 },
        notes: { 'no password: cannot log in': 1 },
      });
      expect(summary.friends).toMatchObject({
        read: 7 + FILLERS,
        imported: 3 + FILLERS,
        skipped: { 'duplicate friend row': 1, 'friend of oneself': 1, 'user not imported': 2 },
        notes: { 'one-way friendship made mutual': 1 },
      });
      expect(summary.friend_requests).toMatchObject({
        read: 5,
        imported: 3,
        skipped: {
          'another pending request between the same users': 1,
          'no handle result (never shown by the Go system)': 1,
        },
      });
      expect(summary.groups).toMatchObject({
        read: 3,
        imported: 2,
        skipped: { 'creator not imported': 1 },
      });
      expect(summary.group_members).toMatchObject({
        read: 6,
        imported: 4,
        skipped: { 'duplicate membership': 1, 'group not imported': 1 },
        notes: { 'second creator made a manager': 1, 'creator membership added': 1 },
      });
      expect(summary.group_requests).toMatchObject({
        read: 4,
        imported: 2,
        skipped: {
          'another pending request of the same user': 1,
          'no handle result (never shown by the Go system)': 1,
        },
      });

      const before = await counts(t);
      expect(before).toEqual({
        users,
        friends: 4 + FILLERS,
        friendRequests: 3,
        groups: 2,
        groupMembers: 5,
        groupRequests: 2,
      });
      const again = await importGoEasyChat(source, t.app.storage.db, { batchSize: 50 });
      for (const table of Object.values(again)) {
        expect(table.imported).toBe(0);
        expect(table.notes).not.toHaveProperty('one-way friendship made mutual');
        expect(table.notes).not.toHaveProperty('creator membership added');
      }
      expect(total(again.users)).toBe(users);
      expect(await counts(t)).toEqual(before);

      const groups = await t.app.storage.db
        .selectFrom('groups')
        .select(['id', 'memberCount', 'name', 'isVerify'])
        .orderBy('id')
        .execute();
      expect(groups).toEqual([
        { id: 'g1', memberCount: 3, name: 'Cats 🐈', isVerify: 1 },
        { id: 'g2', memberCount: 2, name: 'Dogs', isVerify: 0 },
      ]);
      const roles = await t.app.storage.db
        .selectFrom('groupMembers')
        .select(['userId', 'roleLevel'])
        .where('groupId', '=', 'g2')
        .orderBy('roleLevel')
        .execute();
      expect(roles).toEqual([
        { userId: goId(4), roleLevel: 1 },
        { userId: goId(5), roleLevel: 2 },
      ]);
    });

    it('lets an imported user log in with the Go password (re-hashed) and chat with an imported friend', async () => {
      const hashOf = async (id: string) =>
        (
          await t.app.storage.db
            .selectFrom('users')
            .select('passwordHash')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).passwordHash;
      expect(await hashOf(ALICE)).toMatch(/^\$2a\$/);

      const wrong = await t.client.post('/v1/user/login', {
        phone: '13800000001',
        password: 'nope',
      });
      expect(wrong.status).toBe(401);
      expect(await hashOf(ALICE)).toMatch(/^\$2a\$/);

      const login = async (phone: string, password: string) => {
        const res = await t.client.post('/v1/user/login', { phone, password });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.data.token as string;
      };
      await login('13800000001', 'go-pass-1');
      expect(await hashOf(ALICE)).toMatch(/^\$argon2id\$/);
      const aliceToken = await login('13800000001', 'go-pass-1');
      const bobToken = await login('13800000002', 'go-pass-2');

      const me = await t.client.withToken(aliceToken).get('/v1/user/user');
      expect(me.body.data.info).toMatchObject({ id: ALICE, nickname: 'Alice 🐱', sex: 2 });
      const friends = await t.client.withToken(aliceToken).get('/v1/social/friends');
      expect(friends.status).toBe(200);
      expect(JSON.stringify(friends.body.data)).toContain(BOB);

      const [alice, bob] = await Promise.all([connect(aliceToken), connect(bobToken)]);
      const sent = await alice.call('conversation.chat', {
        chatType: 2,
        recvId: BOB,
        msg: { mType: 0, content: 'hello from Go 🐹' },
      });
      expect(sent).toMatchObject({ seq: 1, sendId: ALICE, recvId: BOB });
      const push = await bob.waitFor((f) => f.method === 'push' && f.data?.msgId === sent.msgId);
      expect(push.data.content).toBe('hello from Go 🐹');

      // And in an imported group.
      const inGroup = await bob.call('conversation.chat', {
        chatType: 1,
        recvId: 'g1',
        msg: { mType: 0, content: 'hi cats' },
      });
      expect(inGroup).toMatchObject({ seq: 1, sendId: BOB, recvId: 'g1' });
      await alice.waitFor((f) => f.method === 'push' && f.data?.msgId === inGroup.msgId);
    });
  });

  it('runs as "easy-chat import go-easy-chat" with a progress bar and a summary', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'easy-chat-import-'));
    try {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli.ts',
          'import',
          'go-easy-chat',
          '--from',
          sourceUrl,
          '--batch',
          '10',
        ],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            EASY_CHAT_ENV: 'test',
            DATA_DIR: dataDir,
            EC_STORAGE__DRIVER: 'sqlite',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code, stderr).toBe(0);
      expect(stderr).toContain('importing mysql://');
      expect(stderr).toMatch(/users\s+\[#+\] 41\/41/);
      expect(stdout).toMatch(/^users\s+41\s+40\s+0\s+1$/m);
      expect(stdout).toContain(`skipped 1: phone already used by ${goId(3)}`);
      expect(stdout).toContain('skipped 1: no handle result (never shown by the Go system)');

      const usage = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', 'import', 'go-easy-chat'],
        {
          cwd: root,
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let help = '';
      usage.stderr.on('data', (d: Buffer) => (help += d.toString()));
      expect(await new Promise((resolve) => usage.on('exit', resolve))).toBe(2);
      expect(help).toContain('--from');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
