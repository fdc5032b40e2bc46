/**
 * The cost of catching up on changes: a client that holds 1,000 messages which
 * were all edited while it was away syncs with `{seq, modSeq}` and gets the 1,000
 * changed messages (paged by im.syncPageSize). Reported next to the ceiling
 * measured in the same run: syncing the same 1,000 messages as new ones (plain
 * `{seq: 0}`). Medians of alternating rounds, with their range.
 *
 *   npx tsx bench/sync-changes.ts   BENCH_SYNC_MESSAGES=1000 BENCH_ROUNDS=5 BENCH_STORAGE=sqlite|postgres
 *
 * PostgreSQL needs TEST_DATABASE_URL. The server runs in this process, over real
 * HTTP and WebSocket sockets (the test harness starts it).
 */
import { createUser } from '../test/support/factories.js';
import { befriend } from '../test/support/social.js';
import { startTestApp } from '../test/support/test-app.js';
import { WsClient } from '../test/support/ws-client.js';

const MESSAGES = Number(process.env.BENCH_SYNC_MESSAGES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const STORAGE = (process.env.BENCH_STORAGE ?? 'sqlite') as 'sqlite' | 'postgres';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const t = await startTestApp({ storage: STORAGE, overrides: { log: { level: 'warn' } } });
  try {
    const [alice, bob] = [await createUser(t.client), await createUser(t.client)];
    await befriend(alice, bob);
    const a = await (await WsClient.connect(t.url, { token: alice.token })).ready();
    const b = await (await WsClient.connect(t.url, { token: bob.token })).ready();
    const conversationId = [alice.id, bob.id].sort().join('_');
    const sent: string[] = [];
    for (let i = 0; i < MESSAGES; i += 1) {
      const m = await a.call('conversation.chat', {
        chatType: 2,
        recvId: bob.id,
        msg: { mType: 0, content: `message ${i}` },
      });
      sent.push(m.msgId);
    }
    for (const [i, msgId] of sent.entries()) {
      await a.call('message.edit', { conversationId, msgId, content: `edited ${i}` });
    }

    /** Pages until caught up; returns ms and how many messages came. */
    const syncAll = async (position: (seq: number, modSeq: number) => unknown) => {
      let seq = 0;
      let modSeq = 0;
      let got = 0;
      const started = process.hrtime.bigint();
      for (;;) {
        const page = (
          await b.call('conversation.sync', {
            conversations: { [conversationId]: position(seq, modSeq) },
          })
        ).conversations[conversationId];
        got += page.messages.length + page.changes.length;
        if (page.messages.length > 0) seq = page.messages[page.messages.length - 1].seq;
        modSeq = page.maxModSeq;
        if (!page.hasMore) break;
      }
      return { ms: Number(process.hrtime.bigint() - started) / 1e6, got };
    };
    const changes: number[] = [];
    const fresh: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const c = await syncAll((_seq, modSeq) => ({ seq: MESSAGES, modSeq }));
      // The plain lastSeq form: messages only (with {seq, modSeq: 0} the changes would come too).
      const f = await syncAll((seq) => seq);
      if (c.got !== MESSAGES || f.got < MESSAGES) {
        throw new Error(`expected ${MESSAGES} messages, got ${c.got} / ${f.got}`);
      }
      changes.push(c.ms);
      fresh.push(f.ms);
    }
    const fmt = (xs: number[]) =>
      `${median(xs).toFixed(1)} ms (range ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
    console.log(`storage ${STORAGE}, page ${t.config.im.syncPageSize}, ${ROUNDS} rounds`);
    console.log(`sync of ${MESSAGES} changed messages: ${fmt(changes)}`);
    console.log(`sync of ${MESSAGES} new messages (ceiling): ${fmt(fresh)}`);
    console.log(`ratio changes / new: ${(median(changes) / median(fresh)).toFixed(2)}`);
    await Promise.all([a.close(), b.close()]);
  } finally {
    await t.close();
  }
}

await main();
