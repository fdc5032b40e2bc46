/**
 * The SDK's files side against a real server: uploadFile (bytes and Blobs, with
 * progress, names kept, refusals as ApiError), fileLink / downloads, and sendFile
 * between two users, whose peer reads the file it was sent.
 */
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiError,
  ChatClient,
  ChatType,
  fileContent,
  MessageType,
  messageTypeFor,
  TimeoutError,
  type UploadProgress,
} from '@easy-chat/sdk';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type RegisteredUser } from '../support/factories.js';
import { makePdf, makePng } from '../support/files.js';
import { sdkClient, waitUntil } from '../support/sdk.js';
import { befriend } from '../support/social.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const MAX_BYTES = 512 * 1024;

describe('SDK files against a real server', () => {
  let t: TestApp;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let eve: RegisteredUser;
  let dir: string;
  const clients: ChatClient[] = [];
  const api = (user: RegisteredUser) =>
    new ChatClient({ baseUrl: t.url, token: user.token, WebSocket }).api;

  beforeAll(async () => {
    t = await startTestApp({ overrides: { files: { maxBytes: MAX_BYTES } } });
    [alice, bob, eve] = await Promise.all([
      createUser(t.client, { nickname: 'alice' }),
      createUser(t.client, { nickname: 'bob' }),
      createUser(t.client, { nickname: 'eve' }),
    ]);
    await befriend(alice, bob);
    dir = await mkdtemp(join(tmpdir(), 'sdk-files-'));
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads bytes with progress; the server sniffs the type and keeps the name', async () => {
    const png = await makePng(300, 200);
    const progress: UploadProgress[] = [];
    const file = await api(alice).uploadFile(png, {
      name: 'Ünïcode "cat"\r\n.png',
      onProgress: (p) => progress.push(p),
    });
    expect(file).toMatchObject({
      name: 'Ünïcode %22cat%22%0D%0A.png',
      size: png.length,
      mime: 'image/png',
      width: 300,
      height: 200,
    });
    expect(file.url).toMatch(new RegExp(`^/v1/files/${file.fileId}\\?`));
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last.loaded).toBe(last.total);
    expect(last.total).toBeGreaterThan(png.length);
    for (let i = 1; i < progress.length; i += 1) {
      expect(progress[i]!.loaded).toBeGreaterThanOrEqual(progress[i - 1]!.loaded);
    }
  });

  it('streams a file from disk (fs.openAsBlob) and downloads the same bytes', async () => {
    const bytes = Buffer.alloc(300 * 1024);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 7919) % 251;
    const path = join(dir, 'data.bin');
    await writeFile(path, bytes);
    const client = api(alice);
    const ticks: number[] = [];
    const file = await client.uploadFile(await openAsBlob(path), {
      name: 'data.bin',
      onProgress: (p) => ticks.push(p.loaded),
    });
    expect(file).toMatchObject({ name: 'data.bin', size: bytes.length });
    // A 300 KiB body leaves in several chunks: progress is reported along the way.
    expect(ticks.length).toBeGreaterThan(2);
    const back = Buffer.from(await (await client.downloadFile(file.fileId)).arrayBuffer());
    expect(back.equals(bytes)).toBe(true);
    // A signed link works without a token (what <img src> does).
    const link = await client.fileLink(file.fileId);
    expect(link.expiresAt).toBeGreaterThan(Date.now());
    const viaLink = await fetch(client.resolveUrl(link.url));
    expect(viaLink.status).toBe(200);
    expect(Buffer.from(await viaLink.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refusals are ApiErrors with the server code', async () => {
    const client = api(alice);
    const tooBig = await client
      .uploadFile(Buffer.alloc(MAX_BYTES + 1024), { name: 'big.bin' })
      .catch((e: unknown) => e);
    expect(tooBig).toBeInstanceOf(ApiError);
    expect(tooBig).toMatchObject({ code: 600002, status: 413 });

    let authErrors = 0;
    const anonymous = new ChatClient({ baseUrl: t.url, token: 'not-a-token', WebSocket });
    anonymous.on('authError', () => (authErrors += 1));
    const refused = await anonymous.api
      .uploadFile(makePdf(), { name: 'a.pdf' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 100003, status: 401 });
    expect(authErrors).toBe(1);

    const mine = await client.uploadFile(makePdf(), { name: 'mine.pdf' });
    const stranger = api(eve);
    await expect(stranger.fileLink(mine.fileId)).rejects.toMatchObject({ code: 600008 });
    await expect(stranger.downloadFile(mine.fileId)).rejects.toMatchObject({
      code: 600008,
      status: 403,
    });
    await expect(client.downloadThumbnail(mine.fileId)).rejects.toMatchObject({ code: 600014 });
    await expect(client.fileLink('../../etc')).rejects.toMatchObject({ code: 100002 });
  });

  it('an aborted upload rejects with the abort reason and stores nothing', async () => {
    const client = api(alice);
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const upload = client.uploadFile(Buffer.alloc(400 * 1024, 3), {
      name: 'cancelled.bin',
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loaded > 64 * 1024) controller.abort(reason);
      },
    });
    await expect(upload).rejects.toBe(reason);
    // The server keeps answering, and has nothing named like it.
    const after = await client.uploadFile(Buffer.from('ok'), { name: 'after.txt' });
    expect(after.size).toBe(2);
    const rows = await t.app.storage.db
      .selectFrom('files')
      .select('id')
      .where('name', '=', 'cancelled.bin')
      .execute();
    expect(rows).toEqual([]);
  });

  it('an upload that stalls gives up with a TimeoutError', async () => {
    // A fetch that takes the body and never answers.
    const stuck = new ChatClient({
      baseUrl: t.url,
      token: alice.token,
      WebSocket,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    });
    const err = await stuck.api
      .uploadFile(Buffer.from('x'), { stallTimeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it('sendFile uploads and sends; the peer gets the stored metadata and reads the file', async () => {
    const a = await sdkClient(t.url, alice);
    const b = await sdkClient(t.url, bob);
    clients.push(a.client, b.client);
    const png = await makePng(640, 480);
    const { file, message } = await a.client.sendFile({
      chatType: ChatType.single,
      recvId: bob.id,
      file: new Blob([png]),
      name: 'photo.png',
    });
    expect(message.mType).toBe(MessageType.image);
    expect(fileContent(message)).toEqual({
      fileId: file.fileId,
      name: 'photo.png',
      size: png.length,
      mime: 'image/png',
      width: 640,
      height: 480,
    });
    await waitUntil(() => b.received.some((m) => m.msgId === message.msgId), 10_000, 'the push');
    const got = b.received.find((m) => m.msgId === message.msgId)!;
    const content = fileContent(got)!;
    expect(content.fileId).toBe(file.fileId);
    const bytes = Buffer.from(
      await (await b.client.api.downloadFile(content.fileId)).arrayBuffer(),
    );
    expect(bytes.equals(png)).toBe(true);
    const thumb = await b.client.api.downloadThumbnail(content.fileId);
    expect(thumb.type).toBe('image/webp');

    // A PDF goes as a file message; a voice note by asking, with its duration.
    const pdf = await a.client.sendFile({
      chatType: ChatType.single,
      recvId: bob.id,
      file: makePdf(),
      name: 'doc.pdf',
    });
    expect(pdf.message.mType).toBe(MessageType.file);
    // The server refuses a type that does not fit (a PDF is no voice note).
    await expect(
      a.client.sendFile({
        chatType: ChatType.single,
        recvId: bob.id,
        file: makePdf(),
        mType: MessageType.voice,
        duration: 1500,
      }),
    ).rejects.toMatchObject({ code: 600013 });
    // Recalled: the peer loses access; the recalled message has no file any more.
    const recalled = await a.client.revoke(message.conversationId, message.msgId);
    expect(fileContent(recalled)).toBeUndefined();
    await expect(b.client.api.downloadFile(file.fileId)).rejects.toMatchObject({ code: 600008 });
  });

  it('messageTypeFor picks the message type the server accepts', () => {
    expect(messageTypeFor('image/png')).toBe(MessageType.image);
    expect(messageTypeFor('video/mp4')).toBe(MessageType.video);
    expect(messageTypeFor('audio/ogg')).toBe(MessageType.file);
    expect(messageTypeFor('application/pdf')).toBe(MessageType.file);
    expect(fileContent({ mType: MessageType.text, content: '{"fileId":"x","name":"y"}' })).toBe(
      undefined,
    );
    expect(fileContent({ mType: MessageType.file, content: 'not json' })).toBeUndefined();
  });
});
