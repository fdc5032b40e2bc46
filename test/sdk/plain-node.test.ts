/**
 * `@easy-chat/sdk` from plain Node, as a user's script would load it right after
 * `npm install` (the root `prepare` script compiles packages/sdk/dist): no tsx, no
 * `source` condition. The script talks to a real server through the SDK.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const root = new URL('../..', import.meta.url).pathname;

const SCRIPT = `
import { ChatClient, ChatType, ApiError } from '@easy-chat/sdk';
import WebSocket from 'ws';
const chat = new ChatClient({ baseUrl: process.env.BASE_URL, WebSocket });
const token = await chat.api.register({ phone: '13700000001', password: 'password-1', nickname: 'plain' });
const me = await chat.api.me();
let refused;
try { await chat.api.login({ phone: '13700000001', password: 'wrong-password' }); }
catch (err) { refused = err instanceof ApiError ? err.code : String(err); }
const online = new Promise((resolve) => chat.on('state', (s) => s.state === 'online' && resolve()));
await chat.connect();
await online;
const state = chat.state;
chat.disconnect();
console.log(JSON.stringify({ state, tokenKeys: Object.keys(token).sort(), me, refused, single: ChatType.single }));
`;

// Two users; one sends the other a file streamed from disk, the other downloads it.
const FILE_SCRIPT = `
import { writeFileSync, openAsBlob } from 'node:fs';
import { ChatClient, ChatType, fileContent } from '@easy-chat/sdk';
import WebSocket from 'ws';
const base = process.env.BASE_URL;
const a = new ChatClient({ baseUrl: base, WebSocket });
const b = new ChatClient({ baseUrl: base, WebSocket });
await a.api.register({ phone: '13700000011', password: 'password-1', nickname: 'a' });
await b.api.register({ phone: '13700000012', password: 'password-1', nickname: 'b' });
const bId = (await b.api.me()).id;
const asked = await a.api.requestFriend({ userId: bId });
await b.api.handleFriendRequest({ friendReqId: asked.id, handleResult: 2 });
const bytes = Buffer.alloc(200 * 1024, 7);
writeFileSync(process.env.FILE_PATH, bytes);
const online = new Promise((resolve) => a.on('state', (s) => s.state === 'online' && resolve()));
await a.connect();
await online;
let ticks = 0;
const { file, message } = await a.sendFile({
  chatType: ChatType.single, recvId: bId,
  file: await openAsBlob(process.env.FILE_PATH), name: 'notes.bin',
  onProgress: () => (ticks += 1),
});
const got = Buffer.from(await (await b.api.downloadFile(fileContent(message).fileId)).arrayBuffer());
a.disconnect();
console.log(JSON.stringify({ size: file.size, mType: message.mType, same: got.equals(bytes), progressed: ticks > 1 }));
`;

function runNode(
  env: Record<string, string>,
  script = SCRIPT,
): Promise<{ code: number | null; out: string }> {
  // No --import tsx and no --conditions: exactly what `node script.mjs` does.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('@easy-chat/sdk from plain Node', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('imports the compiled package and calls the server with it', async () => {
    const { code, out } = await runNode({ BASE_URL: t.url });
    expect(
      out,
      'run `npm install` (or `npm run build:sdk`) to compile packages/sdk/dist',
    ).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(code, out).toBe(0);
    const answer = JSON.parse(out) as Record<string, unknown>;
    expect(answer).toMatchObject({
      tokenKeys: ['expire', 'token'],
      me: { nickname: 'plain', mobile: '13700000001' },
      refused: 200002,
      state: 'online',
      single: 2,
    });
  }, 60_000);

  it('uploads a file from disk and sends it with the compiled package', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plain-node-'));
    try {
      const { code, out } = await runNode(
        { BASE_URL: t.url, FILE_PATH: join(dir, 'notes.bin') },
        FILE_SCRIPT,
      );
      expect(code, out).toBe(0);
      expect(JSON.parse(out)).toEqual({
        size: 200 * 1024,
        mType: 2,
        same: true,
        progressed: true,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
