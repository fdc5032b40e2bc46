import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../../../test/support/backends.js';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import {
  makePdf,
  makePng,
  makeRotatedJpeg,
  multipartBody,
  pngBomb,
  rawRequest,
  uploadFile,
} from '../../../test/support/files.js';
import { befriend } from '../../../test/support/social.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { WsClient } from '../../../test/support/ws-client.js';

const MAX_BYTES = 256 * 1024;

async function fetchBytes(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; bytes: Buffer; json?: any }> {
  const res = await fetch(url, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: any;
  if ((res.headers.get('content-type') ?? '').includes('application/json'))
    json = JSON.parse(bytes.toString());
  return { status: res.status, headers: res.headers, bytes, json };
}

describe.each(STORAGES)('files over HTTP on %s', (storage) => {
  let t: TestApp;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let eve: RegisteredUser;
  const auth = (u: RegisteredUser) => ({ authorization: `Bearer ${u.token}` });

  beforeAll(async () => {
    t = await startTestApp({ storage, overrides: { files: { maxBytes: MAX_BYTES } } });
    [alice, bob, eve] = await Promise.all([
      createUser(t.client),
      createUser(t.client),
      createUser(t.client),
    ]);
    await befriend(alice, bob);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('authentication', () => {
    it.each([
      ['POST', '/v1/files'],
      ['POST', '/v1/files/uploads'],
      ['POST', '/v1/files/uploads/01ABC/complete'],
      ['GET', '/v1/files/01ABC/link'],
      ['GET', '/v1/files/01ABC'],
      ['GET', '/v1/files/01ABC/thumb'],
    ])('%s %s needs a token', async (method, path) => {
      const res = await t.client.request(method, path, method === 'POST' ? { body: {} } : {});
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(100003);
    });

    it('an anonymous multipart upload is refused before its body is stored', async () => {
      const res = await uploadFile(alice, makePdf(), 'a.pdf', { token: null });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(100003);
    });
  });

  describe('upload', () => {
    it('stores an image: sniffed type, dimensions, thumbnail, signed links', async () => {
      const png = await makePng(800, 600);
      const res = await uploadFile(alice, png, 'cat.png');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const file = res.body.data;
      expect(file).toMatchObject({
        name: 'cat.png',
        size: png.length,
        mime: 'image/png',
        width: 800,
        height: 600,
      });
      expect(file.url).toMatch(/^\/v1\/files\/[0-9A-Z]+\?uid=.+&expires=\d+&sig=/);
      expect(file.thumbUrl).toMatch(/\/thumb\?/);

      const got = await fetchBytes(new URL(file.url, t.url).href);
      expect(got.status).toBe(200);
      expect(got.bytes.equals(png)).toBe(true);
      expect(got.headers.get('content-type')).toBe('image/png');
      expect(got.headers.get('content-disposition')).toMatch(/^inline; filename="cat.png"/);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');

      const thumb = await fetchBytes(new URL(file.thumbUrl, t.url).href);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(thumb.bytes).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width, meta.height)).toBe(320);
    });

    it('applies EXIF orientation to the recorded size and strips EXIF from the thumbnail', async () => {
      const jpeg = await makeRotatedJpeg(400, 200);
      expect((await sharp(jpeg).metadata()).orientation).toBe(6);
      const res = await uploadFile(alice, jpeg, 'photo.jpg');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data).toMatchObject({ mime: 'image/jpeg', width: 200, height: 400 });
      const thumb = await fetchBytes(new URL(res.body.data.thumbUrl, t.url).href);
      const meta = await sharp(thumb.bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.width).toBeLessThan(meta.height);
    });

    it('takes the type from the bytes, not the name or the declared type', async () => {
      const res = await uploadFile(alice, makePdf(), 'notes.png', { type: 'image/png' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ name: 'notes.png', mime: 'application/pdf' });
      expect(res.body.data.thumbUrl).toBeUndefined();
    });

    it('never serves HTML or SVG inline', async () => {
      for (const [name, text] of [
        ['page.html', '<!doctype html><html><script>alert(1)</script></html>'],
        ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
      ] as const) {
        const res = await uploadFile(alice, Buffer.from(text), name, { type: 'text/html' });
        expect(res.status).toBe(200);
        expect(res.body.data.mime).toBe('application/octet-stream');
        const got = await fetchBytes(new URL(res.body.data.url, t.url).href);
        expect(got.headers.get('content-type')).toBe('application/octet-stream');
        expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
        expect(got.headers.get('content-security-policy')).toContain('sandbox');
      }
    });

    it('keeps only the last segment of a name with a path in it', async () => {
      const res = await uploadFile(alice, Buffer.from('x'), '../../etc/passwd');
      expect(res.status).toBe(200);
      expect(res.body.data.name).toBe('passwd');
      const back = await uploadFile(alice, Buffer.from('x'), '..\\..\\windows\\win.ini');
      expect(back.body.data.name).toBe('win.ini');
    });

    it('refuses a decompression bomb without decoding it', async () => {
      const bomb = pngBomb();
      expect(bomb.length).toBeLessThan(2000);
      const res = await uploadFile(alice, bomb, 'bomb.png');
      expect(res.status).toBe(422);
      expect(res.body.code).toBe(600010);
      expect(res.body.msg).toContain('30000 × 30000');
    });

    it('refuses an oversize file with 413 while streaming', async () => {
      const res = await uploadFile(alice, Buffer.alloc(MAX_BYTES + 1, 1), 'big.bin');
      expect(res.status).toBe(413);
      expect(res.body.code).toBe(600002);
    });

    it('refuses an announced oversize body from its headers, before reading it', async () => {
      const res = await rawRequest(t.url, {
        method: 'POST',
        path: '/v1/files',
        headers: {
          ...auth(alice),
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': 50 * 1024 * 1024,
        },
        body: Buffer.from('--x\r\n'),
        end: false,
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe(600002);
    });

    it('refuses a truncated multipart body', async () => {
      const { body, contentType } = multipartBody(
        [{ field: 'file', filename: 'a.bin', bytes: Buffer.alloc(5000, 7) }],
        false,
      );
      const res = await rawRequest(t.url, {
        method: 'POST',
        path: '/v1/files',
        headers: { ...auth(alice), 'content-type': contentType, 'content-length': body.length },
        body,
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(600006);
    });

    it('refuses a body without a file part, extra parts and non-multipart bodies', async () => {
      const none = multipartBody([]);
      const empty = await rawRequest(t.url, {
        method: 'POST',
        path: '/v1/files',
        headers: {
          ...auth(alice),
          'content-type': none.contentType,
          'content-length': none.body.length,
        },
        body: none.body,
      });
      expect(empty.status).toBe(400);
      expect(empty.body.code).toBe(600005);

      const wrongName = await uploadFile(alice, Buffer.from('x'), 'a.txt', { field: 'upload' });
      expect(wrongName.status).toBe(400);
      expect(wrongName.body.code).toBe(100002);
      expect(wrongName.body.msg).toContain('upload');

      const two = multipartBody([
        { field: 'file', filename: 'a', bytes: Buffer.from('a') },
        { field: 'file', filename: 'b', bytes: Buffer.from('b') },
      ]);
      const twice = await rawRequest(t.url, {
        method: 'POST',
        path: '/v1/files',
        headers: {
          ...auth(alice),
          'content-type': two.contentType,
          'content-length': two.body.length,
        },
        body: two.body,
      });
      expect(twice.status).toBe(400);
      expect(twice.body.code).toBe(100002);

      const json = await alice.client.post('/v1/files', { file: 'abc' });
      expect(json.status).toBe(415);
      expect(json.body.code).toBe(100009);
    });

    it('the server keeps answering after all of that', async () => {
      const res = await uploadFile(alice, makePdf(), 'after.pdf');
      expect(res.status).toBe(200);
    });
  });

  describe('download access', () => {
    let fileId: string;
    let url: string;
    beforeAll(async () => {
      const res = await uploadFile(alice, makePdf(), 'report.pdf');
      fileId = res.body.data.id ?? res.body.data.fileId;
      url = res.body.data.url;
    });

    it('the uploader downloads with a bearer token, with ranges and ETag', async () => {
      const full = await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(alice));
      expect(full.status).toBe(200);
      expect(full.headers.get('accept-ranges')).toBe('bytes');
      const etag = full.headers.get('etag')!;
      expect(etag).toBe(`"${fileId}"`);
      expect(full.headers.get('cache-control')).toContain('private');

      const part = await fetchBytes(`${t.url}/v1/files/${fileId}`, {
        ...auth(alice),
        range: 'bytes=0-7',
      });
      expect(part.status).toBe(206);
      expect(part.bytes.toString()).toBe('%PDF-1.4');
      expect(part.headers.get('content-range')).toBe(`bytes 0-7/${full.bytes.length}`);

      const tail = await fetchBytes(`${t.url}/v1/files/${fileId}`, {
        ...auth(alice),
        range: 'bytes=-6',
      });
      expect(tail.status).toBe(206);
      expect(tail.bytes.toString()).toBe('%%EOF\n');

      const beyond = await fetchBytes(`${t.url}/v1/files/${fileId}`, {
        ...auth(alice),
        range: 'bytes=99999-',
      });
      expect(beyond.status).toBe(416);
      expect(beyond.json.code).toBe(600015);

      const cached = await fetchBytes(`${t.url}/v1/files/${fileId}`, {
        ...auth(alice),
        'if-none-match': etag,
      });
      expect(cached.status).toBe(304);
    });

    it('a stranger is refused, with a token or with a link made for someone else', async () => {
      const direct = await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(eve));
      expect(direct.status).toBe(403);
      expect(direct.json.code).toBe(600008);
      const link = await eve.client.get(`/v1/files/${fileId}/link`);
      expect(link.status).toBe(403);
      // Alice's link with eve's id in it: the signature no longer matches.
      const forged = await fetchBytes(
        new URL(url.replace(/uid=[^&]+/, `uid=${eve.id}`), t.url).href,
      );
      expect(forged.status).toBe(403);
      expect(forged.json.code).toBe(600009);
      const tampered = await fetchBytes(new URL(url.replace(/sig=[^&]+/, 'sig=AAAA'), t.url).href);
      expect(tampered.json.code).toBe(600009);
      const expired = await fetchBytes(
        new URL(url.replace(/expires=\d+/, 'expires=1000'), t.url).href,
      );
      expect(expired.json.code).toBe(600009);
      // The link of the file is not a link of its thumbnail.
      const other = await fetchBytes(new URL(url.replace('?', '/thumb?'), t.url).href);
      expect(other.json.code).toBe(600009);
    });

    it('malformed ids and queries are 400, unknown ids 404', async () => {
      for (const path of [
        '/v1/files/..%2F..%2Fetc',
        '/v1/files/a%00b',
        `/v1/files/${'A'.repeat(40)}`,
      ]) {
        const res = await alice.client.get(path);
        expect(res.status, path).toBe(400);
        expect(res.body.code).toBe(100002);
      }
      const extra = await alice.client.get(`/v1/files/${fileId}?zzz=1`);
      expect(extra.status).toBe(400);
      expect(extra.body.msg).toContain('zzz');
      const missing = await alice.client.get('/v1/files/01ARZ3NDEKTSV4RRFFQ69G5FAV');
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe(600001);
      const noThumb = await alice.client.get(`/v1/files/${fileId}/thumb`);
      expect(noThumb.status).toBe(404);
      expect(noThumb.body.code).toBe(600014);
    });

    it('direct uploads need S3 storage', async () => {
      const res = await alice.client.post('/v1/files/uploads', { name: 'big.mov', size: 1000 });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe(600018);
      const bad = await alice.client.post('/v1/files/uploads', {
        name: 'big.mov',
        size: 0,
        extra: 1,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe(100002);
      const unknown = await alice.client.post(
        '/v1/files/uploads/01ARZ3NDEKTSV4RRFFQ69G5FAV/complete',
        { body: {} },
      );
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe(600016);
    });
  });

  describe('file messages', () => {
    let ws: WsClient;
    let bobWs: WsClient;
    beforeAll(async () => {
      ws = await (await WsClient.connect(t.url, { token: alice.token })).ready();
      bobWs = await (await WsClient.connect(t.url, { token: bob.token })).ready();
    });
    afterAll(() => {
      ws?.socket.close();
      bobWs?.socket.close();
    });

    const chat = (client: WsClient, recvId: string, mType: number, content: string) =>
      client.request('conversation.chat', { chatType: 2, recvId, msg: { mType, content } });

    it('sending a file shares it with the conversation; the server fills in the metadata', async () => {
      const png = await makePng(64, 48);
      const up = await uploadFile(alice, png, 'dot.png');
      const fileId = up.body.data.fileId;
      expect((await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(bob))).status).toBe(403);

      const sent = await chat(ws, bob.id, 1, JSON.stringify({ fileId, name: 'lie.exe', size: 1 }));
      expect(sent.frameType, JSON.stringify(sent.data)).toBe(2);
      const content = JSON.parse(sent.data.content);
      expect(content).toEqual({
        fileId,
        name: 'dot.png',
        size: png.length,
        mime: 'image/png',
        width: 64,
        height: 48,
      });

      const got = await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(bob));
      expect(got.status).toBe(200);
      expect(got.bytes.equals(png)).toBe(true);
      const link = await bob.client.get(`/v1/files/${fileId}/link`);
      expect(link.status).toBe(200);
      expect((await fetchBytes(new URL(link.body.data.thumbUrl, t.url).href)).status).toBe(200);
      // Still nothing for a stranger.
      expect((await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(eve))).status).toBe(403);
    });

    it("refuses someone else's file, wrong types and malformed content", async () => {
      const mine = (await uploadFile(alice, makePdf(), 'a.pdf')).body.data.fileId;
      const theirs = await chat(bobWs, alice.id, 2, JSON.stringify({ fileId: mine }));
      expect(theirs.frameType).toBe(9);
      expect(theirs.data.code).toBe(600007);

      const asImage = await chat(ws, bob.id, 1, JSON.stringify({ fileId: mine }));
      expect(asImage.data.code).toBe(600013);
      const asVoice = await chat(ws, bob.id, 4, JSON.stringify({ fileId: mine, duration: 1200 }));
      expect(asVoice.data.code).toBe(600013);

      for (const content of [
        'not json',
        '[]',
        '{}',
        '{"fileId":"../x"}',
        `{"fileId":"${mine}","zzz":1}`,
        `{"fileId":"${mine}","duration":-1}`,
      ]) {
        const res = await chat(ws, bob.id, 2, content);
        expect(res.frameType, content).toBe(9);
        expect(res.data.code, content).toBe(600012);
      }
      const unknown = await chat(
        ws,
        bob.id,
        2,
        JSON.stringify({ fileId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }),
      );
      expect(unknown.data.code).toBe(600001);

      const ok = await chat(ws, bob.id, 2, JSON.stringify({ fileId: mine }));
      expect(ok.frameType).toBe(2);
      expect(JSON.parse(ok.data.content).mime).toBe('application/pdf');
    });

    it('a recalled file message stops serving its file to the conversation', async () => {
      const fileId = (await uploadFile(alice, makePdf(), 'gone.pdf')).body.data.fileId;
      const sent = await chat(ws, bob.id, 2, JSON.stringify({ fileId }));
      const link = (await bob.client.get(`/v1/files/${fileId}/link`)).body.data.url;
      expect((await fetchBytes(new URL(link, t.url).href)).status).toBe(200);
      const recalled = await ws.request('message.revoke', {
        conversationId: sent.data.conversationId,
        msgId: sent.data.msgId,
      });
      expect(recalled.frameType, JSON.stringify(recalled.data)).toBe(2);
      expect(recalled.data.revoked.by).toBe(alice.id);
      const refs = await t.app.storage.db
        .selectFrom('fileRefs')
        .select('msgId')
        .where('fileId', '=', fileId)
        .execute();
      expect(refs).toEqual([]);
      const after = await fetchBytes(new URL(link, t.url).href);
      expect(after.status).toBe(403);
      expect(after.json.code).toBe(600008);
      expect((await bob.client.get(`/v1/files/${fileId}/link`)).body.code).toBe(600008);
      // The uploader keeps it (until the sweep takes it as an orphan).
      expect((await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(alice))).status).toBe(200);
    });

    it('a recall releases only its own message: the same file sent again stays shared', async () => {
      const fileId = (await uploadFile(alice, makePdf(), 'twice.pdf')).body.data.fileId;
      const first = await chat(ws, bob.id, 2, JSON.stringify({ fileId }));
      await chat(ws, bob.id, 2, JSON.stringify({ fileId }));
      const recalled = await ws.request('message.revoke', {
        conversationId: first.data.conversationId,
        msgId: first.data.msgId,
      });
      expect(recalled.frameType).toBe(2);
      expect((await fetchBytes(`${t.url}/v1/files/${fileId}`, auth(bob))).status).toBe(200);
    });
  });

  describe('quota and sweep', () => {
    it('refuses an upload past the quota', async () => {
      const q = await startTestApp({ storage, overrides: { files: { quotaBytes: 1000 } } });
      try {
        const user = await createUser(q.client);
        expect((await uploadFile(user, Buffer.alloc(600, 1), 'a')).status).toBe(200);
        const res = await uploadFile(user, Buffer.alloc(600, 2), 'b');
        expect(res.status).toBe(413);
        expect(res.body.code).toBe(600004);
      } finally {
        await q.close();
      }
    });

    it('sweeps files never sent and files of deleted accounts, and counts them', async () => {
      let now = Date.now();
      const s = await startTestApp({ storage, clock: () => now });
      try {
        const [u, v] = await Promise.all([createUser(s.client), createUser(s.client)]);
        await befriend(u, v);
        const kept = (await uploadFile(u, makePdf(), 'kept.pdf')).body.data.fileId;
        const orphan = (await uploadFile(u, makePdf(), 'orphan.pdf')).body.data.fileId;
        const recalled = (await uploadFile(u, makePdf(), 'recalled.pdf')).body.data.fileId;
        const socket = await (await WsClient.connect(s.url, { token: u.token })).ready();
        const send = (fileId: string) =>
          socket.call('conversation.chat', {
            chatType: 2,
            recvId: v.id,
            msg: { mType: 2, content: JSON.stringify({ fileId }) },
          });
        const sent = await send(kept);
        const gone = await send(recalled);
        await socket.call('message.revoke', {
          conversationId: gone.conversationId,
          msgId: gone.msgId,
        });
        socket.socket.close();
        expect(sent.msgId).toBeDefined();
        const { sweeper } = s.app.services.files;
        expect(await sweeper.sweep()).toEqual({ orphan: 0, owner_deleted: 0 });
        now += 25 * 3_600_000;
        // The recalled message's file has no reference left: its blob goes with the orphan.
        expect(await sweeper.sweep()).toEqual({ orphan: 2, owner_deleted: 0 });
        expect((await u.client.get(`/v1/files/${orphan}/link`)).body.code).toBe(600001);
        expect((await u.client.get(`/v1/files/${recalled}/link`)).body.code).toBe(600001);
        expect((await u.client.get(`/v1/files/${kept}/link`)).status).toBe(200);

        // Deleting the account (a tombstone row stays) lets its files go.
        const deleted = await u.client.request('DELETE', '/v1/user/user', {
          body: { password: u.password },
        });
        expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
        expect(await sweeper.sweep()).toEqual({ orphan: 0, owner_deleted: 1 });
        expect((await v.client.get(`/v1/files/${kept}/link`)).body.code).toBe(600001);
        // A row gone altogether (an account removed by hand) counts the same.
        const w = await createUser(s.client);
        await uploadFile(w, makePdf(), 'w.pdf');
        await s.app.storage.db.deleteFrom('users').where('id', '=', w.id).execute();
        expect(await sweeper.sweep()).toEqual({ orphan: 0, owner_deleted: 1 });
        const metrics = await (
          await fetch(`${s.url}/metrics`, {
            headers: { authorization: `Bearer ${s.config.metrics.token}` },
          })
        ).text();
        expect(metrics).toMatch(/easychat_files_swept_total\{reason="orphan"[^}]*\} 2/);
        expect(metrics).toMatch(/easychat_files_swept_total\{reason="owner_deleted"[^}]*\} 2/);
      } finally {
        await s.close();
      }
    });
  });
});
