/**
 * SQLite with its WAL checkpointed from a worker thread (storage.sqlite.checkpoint,
 * src/adapters/storage/wal-checkpointer.ts): a real process from the CLI, restarting
 * its WAL every 16 pages so that checkpoints and restarts happen all through the
 * stream, is killed with SIGKILL while messages flow. Started again on the same data
 * directory, it must have every acknowledged message, with dense seqs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatStream } from '../support/chat-stream.js';
import { createUser } from '../support/factories.js';
import { HttpClient } from '../support/http-client.js';
import { freePort } from '../support/ports.js';
import { befriend } from '../support/social.js';
import { until } from '../support/wait.js';
import { WsClient } from '../support/ws-client.js';

const root = new URL('../..', import.meta.url).pathname;
const LONG = 120_000;

const children: ChildProcess[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function startServer(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      EASY_CHAT_ENV: 'test',
      DATA_DIR: dataDir,
      PORT: String(port),
      EC_STORAGE__SQLITE__SYNCHRONOUS: 'full',
      EC_STORAGE__SQLITE__CHECKPOINT__BACKGROUND: 'true',
      EC_STORAGE__SQLITE__CHECKPOINT__RESTART_PAGES: '16',
      EC_STORAGE__SQLITE__CHECKPOINT__INTERVAL_MS: '5',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true,
    'server ready',
    60_000,
  );
  return { url, child };
}

/** Every seq stored in the conversation, read 100 at a time from seq 1 up. */
async function storedSeqs(client: HttpClient, conversationId: string): Promise<number[]> {
  const seqs: number[] = [];
  for (let startSeq = 1; ; startSeq += 100) {
    const page = await client.get('/v1/im/chatlog', {
      query: { conversationId, startSeq, endSeq: startSeq + 99, count: 100 },
    });
    expect(page.status).toBe(200);
    const list = page.body.data.list as Array<{ seq: number }>;
    if (list.length === 0) return [...new Set(seqs)];
    seqs.push(...list.map((m) => m.seq));
  }
}

describe('SQLite with background WAL checkpoints, killed mid-stream', () => {
  it(
    'keeps every acknowledged message across SIGKILL and restart',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'easy-chat-wal-kill-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const first = await startServer(dataDir);
      const client = new HttpClient(first.url);
      const [alice, bob] = [await createUser(client), await createUser(client)];
      await befriend(alice, bob);
      const sockets = await Promise.all(
        [0, 1, 2].map(async () =>
          (await WsClient.connect(first.url, { token: alice.token })).ready(),
        ),
      );
      // Three senders at once: commits group, and the WAL crosses its bound many times.
      const streams = sockets.map((socket, i) =>
        new ChatStream(() => socket, { chatType: 2, recvId: bob.id }, { label: `k${i}` }).start(),
      );
      const acked = () => streams.reduce((n, s) => n + s.acked.size, 0);
      await until(() => acked() >= 240, 'messages before the kill', 60_000);
      first.child.kill('SIGKILL');
      // The WAL restarted all along: without, it would hold every page written since
      // start-up (about 1,700 pages of 4 KiB, 7 MB: migrations and 240 messages at
      // least). Under load the worker's restarts come late and the file (which keeps
      // its largest extent) reached 3.1 MB in a run at load average 10: 4 MB leaves room.
      expect(statSync(join(dataDir, 'easy-chat.db-wal')).size).toBeLessThan(4 * 1024 * 1024);
      await Promise.all(streams.map((s) => s.stop()));
      await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));

      const second = await startServer(dataDir);
      const stored = await storedSeqs(
        new HttpClient(second.url, bob.token),
        [alice.id, bob.id].sort().join('_'),
      );
      const storedSet = new Set(stored);
      const ackedSeqs = streams.flatMap((s) => s.ackedSeqs);
      expect(ackedSeqs.length).toBeGreaterThanOrEqual(240);
      expect(ackedSeqs.filter((seq) => !storedSet.has(seq))).toEqual([]);
      // Dense: every seq from 1 to the highest stored.
      const sorted = [...stored].sort((a, b) => a - b);
      expect(sorted).toEqual(Array.from({ length: sorted.length }, (_, i) => i + 1));
    },
    LONG,
  );
});
