/**
 * The PostgreSQL store of the chat ceiling (bench/peers/ceiling-chat.ts): the least a
 * server can ask of PostgreSQL per private message and keep easy-chat's guarantees
 * (DESIGN.md §2). One connection in pipeline mode, named prepared statements, and one
 * transaction per batch of messages that arrived together (group commit: one WAL
 * flush per batch), in two round trips:
 *
 *   1. BEGIN + one multi-row upsert that bumps each conversation's max_seq by its
 *      number of messages in the batch (dense seq; the row lock orders writers);
 *   2. one multi-row insert of the messages (unique (send_id, client_msg_id) for
 *      idempotent sends) + one multi-row insert of their outbox rows + COMMIT.
 *
 * The senders are answered only once COMMIT has returned. It works in a schema of its
 * own (created at start, dropped at close).
 */
import pg from 'pg';
import type { CeilingStore, Unstored } from './ceiling-chat.js';

const BUMP = {
  name: 'bump',
  text: `insert into conversations (id, max_seq)
         select * from unnest($1::text[], $2::bigint[])
         on conflict (id) do update set max_seq = conversations.max_seq + excluded.max_seq
         returning id, max_seq::int`,
};
const MESSAGES = {
  name: 'messages',
  text: `insert into messages (conversation_id, seq, msg_id, send_id, recv_id, content,
           client_msg_id, send_time)
         select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
           $6::text[], $7::text[], $8::bigint[])`,
};
const OUTBOX = { name: 'outbox', text: 'insert into outbox (payload) select unnest($1::text[])' };

export async function openPostgresStore(url: string): Promise<CeilingStore> {
  const schema = `ceiling_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: url, pipeline: true });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.query(`set search_path = ${schema}`);
  await client.query(`
    create table conversations (id text primary key, max_seq bigint not null);
    create table messages (
      conversation_id text not null, seq bigint not null, msg_id text not null,
      send_id text not null, recv_id text not null, content text not null,
      client_msg_id text, send_time bigint not null,
      primary key (conversation_id, seq));
    create unique index messages_client on messages (send_id, client_msg_id);
    create table outbox (id bigserial primary key, payload text not null);
  `);

  return {
    async store(batch: Unstored[]) {
      try {
        return await storeBatch(batch);
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      }
    },
    async close() {
      await client.query(`drop schema ${schema} cascade`).catch(() => undefined);
      await client.end();
    },
  };

  async function storeBatch(batch: Unstored[]) {
    // How many messages each conversation gets; they take its next seqs in order.
    const counts = new Map<string, number>();
    for (const m of batch) counts.set(m.conversationId, (counts.get(m.conversationId) ?? 0) + 1);
    const begin = client.query('begin');
    const bumped = client.query({ ...BUMP, values: [[...counts.keys()], [...counts.values()]] });
    await begin;
    const next = new Map<string, number>();
    for (const row of (await bumped).rows as Array<{ id: string; max_seq: number }>) {
      next.set(row.id, row.max_seq - counts.get(row.id)! + 1);
    }
    const stored = batch.map((m) => {
      const seq = next.get(m.conversationId)!;
      next.set(m.conversationId, seq + 1);
      return { ...m, seq };
    });
    const column = <K extends keyof (typeof stored)[0]>(key: K) => stored.map((m) => m[key]);
    // Pipelined: a failed insert makes COMMIT roll back, and its own promise rejects.
    const writes = [
      client.query({
        ...MESSAGES,
        values: [
          column('conversationId'),
          column('seq'),
          column('msgId'),
          column('sendId'),
          column('recvId'),
          column('content'),
          column('clientMsgId'),
          column('sendTime'),
        ],
      }),
      client.query({ ...OUTBOX, values: [stored.map((m) => JSON.stringify(m))] }),
      client.query('commit'),
    ];
    await Promise.all(writes);
    return stored;
  }
}
