/**
 * Pages written per private message on SQLite, independent of the machine's load:
 * easy-chat's real schema (a fresh database migrated with the project's migrations)
 * and the send's statements, run in batches as the group commit runs them, against
 * the ceiling's schema and statements (bench/peers/ceiling-chat.ts).
 *
 * Each schema gets a fresh file (WAL, `synchronous = FULL`, automatic checkpoints off),
 * a prefill (BENCH_PREFILL messages, so every B-tree is several pages deep), a
 * checkpoint that empties the WAL, then BENCH_MESSAGES messages over
 * BENCH_CONVERSATIONS pairs in batches of 10–30 (one transaction each; the outbox rows
 * of the previous batch are deleted in it, as the relay's deletes ride the next group
 * commit). The WAL then holds exactly the frames those commits wrote: each frame is
 * one page, and its page number says which B-tree it belongs to (SQLite's `dbstat`).
 * Reported per message: frames (pages) written in all and per B-tree, and the process's
 * CPU (`process.cpuUsage`) in the statements and in the COMMITs.
 *
 *   npx tsx bench/sqlite-pages.ts
 *   BENCH_MESSAGES=6000 BENCH_PREFILL=20000 BENCH_CONVERSATIONS=50 BENCH_ROUNDS=3
 *   BENCH_CLIENT_IDS=time|random  (clientMsgIds growing with time, as the SDK's UUIDv7
 *     and bench:cpu's ULIDs, or random UUIDv4s as other clients may send)
 *   BENCH_PAGE_SIZE=4096  BENCH_SCHEMAS=before,easy,ceiling,x-  (label prefixes; x-: experiments)
 *
 * Schemas: `before` is the migrations up to 0016 (the schema before the eighth
 * session), `rowid` up to 0017 (conversations and members still rowid tables),
 * `easy-chat` all of them, `ceiling` the ceiling script's DDL. The statement
 * texts below are copies of the send path's precompiled statements
 * (conversation.repository.ts, message.repository.ts, event-recorder.ts); a change
 * there belongs here too.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { ceilingSqlite } from './peers/ceiling-sqlite.js';
import { StaticMigrationProvider } from '../src/adapters/storage/migration-provider.js';
import { MIGRATIONS } from '../src/catalogue/migrations.js';
import { singleConversationId } from '../src/modules/im/im.entity.js';
import { newId } from '../src/shared/ids.js';
import { envNumber } from './support/run.js';

const messages = envNumber('BENCH_MESSAGES', 6_000);
const prefill = envNumber('BENCH_PREFILL', 20_000);
const conversations = envNumber('BENCH_CONVERSATIONS', 50);
const rounds = envNumber('BENCH_ROUNDS', 3);
const only = process.env.BENCH_SCHEMAS?.split(',');
const pageSize = envNumber('BENCH_PAGE_SIZE', 0);
/** time: ids that grow with time (the SDK's UUIDv7, bench:cpu's ULIDs); random: UUIDv4. */
const clientIds = process.env.BENCH_CLIENT_IDS === 'random' ? 'random' : 'time';

interface Send {
  conversationId: string;
  sendId: string;
  recvId: string;
  msgId: string;
  clientMsgId: string;
  sendTime: number;
  content: string;
}

/** One schema under test: how to make it, and the statements of one batch. */
interface Schema {
  label: string;
  create(file: string): Promise<void>;
  /** Prepares the statements on `db`; returns the batch runner (inside a transaction). */
  prepare(db: SQLite.Database): (batch: Send[], previous: number[]) => number[];
}

/** Migrates a fresh file with the project's migrations whose names pass `keep`. */
async function migrated(file: string, keep: (name: string) => boolean): Promise<void> {
  const handle = new SQLite(file);
  if (pageSize) handle.pragma(`page_size = ${pageSize}`);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: handle }) });
  const list = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => keep(name)));
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(list, 'sqlite') });
  const { error } = await migrator.migrateToLatest();
  await db.destroy();
  if (error) throw new Error('migration failed', { cause: error });
}

const MEMBER_COLUMNS = `conversation_id, user_id, chat_type, target_id, read_seq, join_seq,
  is_show, pinned, muted, clear_seq, mention_seq`;

/**
 * easy-chat's single-chat send (PortablePairSendStore.storeNow) and the relay's delete.
 * `pairApart`: the parties' rows read by a statement of their own, as before the pair's
 * read went into the seq's upsert (five statements a message instead of four).
 */
function easyChatStatements(db: SQLite.Database, pairApart = false) {
  const nextSeq = db.prepare(
    `insert into conversations (id, chat_type, max_seq, last_msg_id, created_at, updated_at)
     values (?, ?, 1, ?, ?, ?)
     on conflict (id) do update set max_seq = conversations.max_seq + 1,
       last_msg_id = excluded.last_msg_id, updated_at = excluded.updated_at
     returning max_seq${
       pairApart
         ? ''
         : `,
       (select read_seq from conversation_members where conversation_id = ? and user_id = ?)
         as sender_read_seq,
       (select is_show from conversation_members where conversation_id = ? and user_id = ?)
         as recipient_show`
     }`,
  );
  const insert = db.prepare(
    `insert into messages (id, conversation_id, seq, chat_type, send_id, recv_id, send_time,
       m_type, content, client_msg_id, reply_msg_id, reply_to, at_user_ids, at_all)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const pair = db.prepare(
    `select ${MEMBER_COLUMNS}
     from conversation_members where conversation_id = ? and user_id in (?, ?)`,
  );
  const advanceRead = db.prepare(
    `update conversation_members set read_seq = ?, updated_at = ?
     where conversation_id = ? and user_id = ? and read_seq < ?${
       pairApart ? '' : '\n     returning pinned, muted, clear_seq, is_show'
     }`,
  );
  const member = db.prepare(
    `insert into conversation_members (conversation_id, user_id, chat_type, target_id,
       read_seq, join_seq, is_show, created_at, updated_at)
     values (?, ?, 1, ?, ?, 0, 1, ?, ?)`,
  );
  const outbox = db.prepare(
    `insert into outbox_events (id, type, aggregate, partition_key, envelope, created_at,
       published_at, attempts)
     values (?, ?, ?, ?, ?, ?, null, 0)`,
  );
  const relayed = db.prepare(
    'delete from outbox_events where position in (select value from json_each(?))',
  );
  return (batch: Send[], previous: number[]): number[] => {
    if (previous.length > 0) relayed.run(JSON.stringify(previous));
    const positions: number[] = [];
    for (const m of batch) {
      const seqParameters = [m.conversationId, 1, m.msgId, m.sendTime, m.sendTime];
      if (!pairApart) seqParameters.push(m.conversationId, m.sendId, m.conversationId, m.recvId);
      const { max_seq: seq, sender_read_seq: senderReadSeq } = nextSeq.get(seqParameters) as {
        max_seq: number;
        sender_read_seq?: number | null;
      };
      insert.run(
        m.msgId,
        m.conversationId,
        seq,
        1,
        m.sendId,
        m.recvId,
        m.sendTime,
        0,
        m.content,
        m.clientMsgId,
        null,
        null,
        null,
        0,
      );
      const known = pairApart
        ? pair.all(m.conversationId, m.sendId, m.recvId).length > 0
        : senderReadSeq != null;
      if (!known) {
        // The first message: both parties' rows, as the caller creates them.
        member.run(m.conversationId, m.sendId, m.recvId, seq, m.sendTime, m.sendTime);
        member.run(m.conversationId, m.recvId, m.sendId, 0, m.sendTime, m.sendTime);
      } else if (pairApart) {
        advanceRead.run(seq, m.sendTime, m.conversationId, m.sendId, seq);
      } else {
        advanceRead.get(seq, m.sendTime, m.conversationId, m.sendId, seq);
      }
      const id = newId();
      const envelope = JSON.stringify({
        id,
        type: 'message-sent',
        aggregate: 'message',
        timestamp: m.sendTime,
        payload: {
          msgId: m.msgId,
          conversationId: m.conversationId,
          chatType: 1,
          seq,
          sendId: m.sendId,
          recvId: m.recvId,
          mType: 0,
          sendTime: m.sendTime,
        },
        metadata: { source: 'easy-chat:node-1', version: 1 },
      });
      const info = outbox.run(
        id,
        'message-sent',
        'message',
        m.conversationId,
        envelope,
        m.sendTime,
      );
      positions.push(Number(info.lastInsertRowid));
    }
    return positions;
  };
}

const easyChat = (
  label: string,
  keep: (name: string) => boolean,
  ddl?: string,
  pairApart = false,
): Schema => ({
  label,
  async create(file) {
    await migrated(file, keep);
    if (ddl) {
      const db = new SQLite(file);
      db.exec(ddl);
      db.close();
    }
  },
  prepare: (db) => easyChatStatements(db, pairApart),
});

/**
 * Experiments: DDL run after the migrations up to 0016 (BENCH_SCHEMAS=x- to run them).
 * The eighth session measured these to choose migration 0017 (docs/performance-log.md).
 */
const upTo0016 = (name: string) => name <= '0016~';
const WITHOUT_ROWID = `
  create table messages_new (id varchar(32) not null, conversation_id varchar(80) not null,
    seq bigint not null, chat_type smallint not null, send_id varchar(32) not null,
    recv_id varchar(80) not null, send_time bigint not null, m_type smallint not null,
    content text not null, client_msg_id varchar(64), mod_seq bigint default 0 not null,
    edited_at bigint, revoked_by varchar(32), revoked_at bigint, reply_msg_id varchar(32),
    reply_to text, at_user_ids text, at_all smallint default 0 not null, reactions text,
    primary key (conversation_id, seq)) without rowid;
  drop table messages;
  alter table messages_new rename to messages;
  create unique index messages_id_uq on messages (id);
  create unique index messages_sender_client_id_uq on messages (send_id, client_msg_id);
  create index messages_conversation_mod_seq_idx on messages (conversation_id, mod_seq) where mod_seq > 0;
  create index messages_reply_msg_id_idx on messages (reply_msg_id) where reply_msg_id is not null;`;
const EXPERIMENTS: Schema[] = [
  easyChat('x-pair-apart', () => true, undefined, true),
  easyChat('x-no-time-idx', upTo0016, 'drop index messages_conversation_time_idx;'),
  easyChat(
    'x-time-only-idx',
    upTo0016,
    `drop index messages_conversation_time_idx;
    create index messages_send_time_idx on messages (send_time);`,
  ),
  easyChat(
    'x-client-first',
    upTo0016,
    `drop index messages_conversation_time_idx;
    drop index messages_sender_client_id_uq;
    create unique index messages_client_id_sender_uq on messages (client_msg_id, send_id);`,
  ),
  easyChat('x-without-rowid', upTo0016, WITHOUT_ROWID),
  easyChat(
    'x-outbox-no-autoincrement',
    () => true,
    `
    create table outbox_plain (position integer primary key, id varchar(32) not null,
      type varchar(64) not null, aggregate varchar(32) not null,
      partition_key varchar(128) not null, envelope text not null, created_at bigint not null,
      published_at bigint, attempts integer default 0 not null);
    drop table outbox_events;
    alter table outbox_plain rename to outbox_events;`,
  ),
  easyChat(
    'x-without-rowid+time',
    upTo0016,
    `${WITHOUT_ROWID}
    create index messages_conversation_time_idx on messages (conversation_id, send_time);`,
  ),
];

const ceiling: Schema = {
  label: 'ceiling',
  async create(file) {
    const db = new SQLite(file);
    if (pageSize) db.pragma(`page_size = ${pageSize}`);
    ceilingSqlite(db);
    db.close();
  },
  prepare(db) {
    const storeOne = ceilingSqlite(db);
    return (batch) => {
      for (const m of batch) storeOne({ ...m, chatType: 2, mType: 0 });
      return [];
    };
  },
};

const SCHEMAS: Schema[] = [
  easyChat('before (migrations ≤ 0016)', upTo0016),
  // Before conversations and their members were WITHOUT ROWID tables (0018).
  easyChat('rowid tables (migrations ≤ 0017)', (name) => name <= '0017~'),
  easyChat('easy-chat (all migrations)', () => true),
  ceiling,
  ...EXPERIMENTS,
].filter((s) => (only ? only.some((o) => s.label.startsWith(o)) : !s.label.startsWith('x-')));

/** A seeded generator, so every schema gets the same sends in the same batches. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function workload(count: number, seed: number): Send[][] {
  const next = random(seed);
  // Fixed ids of user ids' length (26, as newId's): the same pairs in every round.
  const users = Array.from(
    { length: conversations * 2 },
    (_, i) => `01USER${String(i).padStart(20, '0')}`,
  );
  const batches: Send[][] = [];
  let n = 0;
  while (n < count) {
    const size = Math.min(count - n, 10 + Math.floor(next() * 21));
    const batch: Send[] = [];
    for (let i = 0; i < size; i += 1, n += 1) {
      const pairIndex = Math.floor(next() * conversations);
      const [a, b] = [users[pairIndex * 2]!, users[pairIndex * 2 + 1]!];
      const [sendId, recvId] = next() < 0.5 ? [a, b] : [b, a];
      batch.push({
        conversationId: singleConversationId(sendId, recvId),
        sendId,
        recvId,
        msgId: newId(),
        clientMsgId: clientIds === 'time' ? newId() : randomUUID(),
        sendTime: Date.now(),
        content: `m${n}`,
      });
    }
    batches.push(batch);
  }
  return batches;
}

interface Result {
  frames: number;
  commits: number;
  byTree: Map<string, number>;
  statementsUs: number;
  commitUs: number;
}

async function measure(schema: Schema, round: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'ec-pages-'));
  const file = join(dir, 'db.sqlite');
  try {
    await schema.create(file);
    const db = new SQLite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    const storeBatch = schema.prepare(db);
    const begin = db.prepare('begin');
    const commit = db.prepare('commit');
    let previous: number[] = [];
    const run = (batch: Send[], clock?: { statements: number; commit: number }) => {
      const t0 = process.cpuUsage();
      begin.run();
      const positions = storeBatch(batch, previous);
      const t1 = process.cpuUsage();
      commit.run();
      const t2 = process.cpuUsage();
      previous = positions;
      if (clock) {
        clock.statements += cpu(t1) - cpu(t0);
        clock.commit += cpu(t2) - cpu(t1);
      }
    };
    for (const batch of workload(prefill, 1 + round)) run(batch);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const clock = { statements: 0, commit: 0 };
    for (const batch of workload(messages, 1_000 + round)) run(batch, clock);
    const { frames, commits, pages } = readWal(
      `${file}-wal`,
      db.pragma('page_size', { simple: true }) as number,
    );
    const owner = new Map<number, string>();
    for (const row of db.prepare('select name, pageno from dbstat').all() as Array<{
      name: string;
      pageno: number;
    }>) {
      owner.set(row.pageno, row.name);
    }
    const byTree = new Map<string, number>();
    for (const page of pages) {
      const name = owner.get(page) ?? (page === 1 ? 'page 1 (header)' : 'free pages');
      byTree.set(name, (byTree.get(name) ?? 0) + 1);
    }
    db.close();
    return { frames, commits, byTree, statementsUs: clock.statements, commitUs: clock.commit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cpu(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

/** The WAL's frames: one per page written, with its page number (WAL format, sqlite.org/walformat.html). */
function readWal(
  path: string,
  pageSize: number,
): { frames: number; commits: number; pages: number[] } {
  const wal = readFileSync(path);
  const pages: number[] = [];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    pages.push(wal.readUInt32BE(at));
    if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  }
  return { frames: pages.length, commits, pages };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const results = new Map<string, Result[]>();
for (let round = 0; round < rounds; round += 1) {
  for (const schema of round % 2 === 0 ? SCHEMAS : [...SCHEMAS].reverse()) {
    const list = results.get(schema.label) ?? [];
    list.push(await measure(schema, round));
    results.set(schema.label, list);
  }
}

const fmt = (n: number) => n.toFixed(2);
console.log(
  `\n${messages} messages over ${conversations} pairs in batches of 10–30 after a prefill of ${prefill}; ` +
    `median of ${rounds} rounds (CPU range in brackets)\n`,
);
console.log(`page size ${pageSize || 4096}, client ids ${clientIds}\n`);
console.log(
  '| schema | pages / message | commits | statements CPU-µs / msg | COMMIT CPU-µs / msg |',
);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [label, list] of results) {
  const per = (f: (r: Result) => number) => list.map((r) => f(r) / messages);
  const range = (v: number[]) =>
    `${median(v).toFixed(1)} (${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)})`;
  console.log(
    `| ${label} | ${fmt(median(per((r) => r.frames)))} | ${median(list.map((r) => r.commits))} | ` +
      `${range(per((r) => r.statementsUs))} | ${range(per((r) => r.commitUs))} |`,
  );
}
for (const [label, list] of results) {
  console.log(`\n${label}: pages per message by B-tree (round 1)`);
  const first = list[0]!;
  for (const [tree, count] of [...first.byTree].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${tree.padEnd(40)} ${fmt(count / messages)}`);
  }
}
