import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type RegisteredUser } from '../../../test/support/factories.js';
import { makePdf, makePng, uploadFile } from '../../../test/support/files.js';
import { startTestS3, type TestS3 } from '../../../test/support/s3-server.js';
import { startTestApp, type TestApp } from '../../../test/support/test-app.js';

describe('files on S3 storage (s3rver on loopback)', () => {
  let s3: TestS3;
  let t: TestApp;
  let alice: RegisteredUser;
  let eve: RegisteredUser;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestApp({
      overrides: {
        files: {
          storage: 's3',
          allowedTypes: ['image/*', 'application/pdf'],
          s3: {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            region: 'us-east-1',
            prefix: 'app/',
            forcePathStyle: true,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
          },
        },
      },
    });
    [alice, eve] = await Promise.all([createUser(t.client), createUser(t.client)]);
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('uploads through the server into the bucket and serves it back with ranges', async () => {
    const png = await makePng(500, 100);
    const up = await uploadFile(alice, png, 'wide.png');
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    expect(up.body.data).toMatchObject({ mime: 'image/png', width: 500, height: 100 });
    const whole = await fetch(new URL(up.body.data.url, t.url));
    expect(Buffer.from(await whole.arrayBuffer()).equals(png)).toBe(true);
    const part = await fetch(new URL(up.body.data.url, t.url), { headers: { range: 'bytes=1-3' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).toString('latin1')).toBe('PNG');
    const thumb = await fetch(new URL(up.body.data.thumbUrl, t.url));
    expect(thumb.headers.get('content-type')).toBe('image/webp');
  });

  async function announce(user: RegisteredUser, size: number) {
    const res = await user.client.post('/v1/files/uploads', { name: 'big.pdf', size });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data as { uploadId: string; url: string; headers: Record<string, string> };
  }

  it('direct upload: presigned PUT straight to the bucket, then complete checks it', async () => {
    const pdf = makePdf();
    const up = await announce(alice, pdf.length);
    expect(up.url.startsWith(s3.endpoint)).toBe(true);
    const put = await fetch(up.url, { method: 'PUT', headers: up.headers, body: pdf });
    expect(put.status).toBe(200);
    // A stranger cannot complete (or learn of) someone else's upload.
    const stranger = await eve.client.post(`/v1/files/uploads/${up.uploadId}/complete`, {});
    expect(stranger.status).toBe(404);
    expect(stranger.body.code).toBe(600016);
    const done = await alice.client.post(`/v1/files/uploads/${up.uploadId}/complete`, {});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.data).toMatchObject({
      fileId: up.uploadId,
      mime: 'application/pdf',
      size: pdf.length,
    });
    const again = await alice.client.post(`/v1/files/uploads/${up.uploadId}/complete`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe(600019);
    const got = await fetch(new URL(done.body.data.url, t.url));
    expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it('direct upload: refuses missing bytes, a wrong size and a type not allowed', async () => {
    const nothing = await announce(alice, 10);
    const early = await alice.client.post(`/v1/files/uploads/${nothing.uploadId}/complete`, {});
    expect(early.status).toBe(400);
    expect(early.body.code).toBe(600017);

    const short = await announce(alice, 100);
    await fetch(short.url, { method: 'PUT', headers: short.headers, body: makePdf() });
    const mismatch = await alice.client.post(`/v1/files/uploads/${short.uploadId}/complete`, {});
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.code).toBe(600017);
    // A refused upload is gone.
    const retry = await alice.client.post(`/v1/files/uploads/${short.uploadId}/complete`, {});
    expect(retry.body.code).toBe(600016);

    const zip = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200)]);
    const typed = await announce(alice, zip.length);
    await fetch(typed.url, { method: 'PUT', headers: typed.headers, body: zip });
    const refused = await alice.client.post(`/v1/files/uploads/${typed.uploadId}/complete`, {});
    expect(refused.status).toBe(415);
    expect(refused.body.code).toBe(600003);

    const tooBig = await alice.client.post('/v1/files/uploads', { name: 'x', size: 3 * 1024 ** 3 });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe(600002);
  });

  it('an unreachable S3 answers 503 / 100011, not a crash', async () => {
    const broken = await startTestApp({
      overrides: {
        files: {
          storage: 's3',
          s3: {
            endpoint: 'http://127.0.0.1:1',
            bucket: 'x',
            forcePathStyle: true,
            accessKeyId: 'a',
            secretAccessKey: 'b',
          },
        },
      },
    });
    try {
      const user = await createUser(broken.client);
      const res = await uploadFile(user, makePdf(), 'a.pdf');
      expect(res.status).toBe(503);
      expect(res.body.code).toBe(100011);
    } finally {
      await broken.close();
    }
  });
});
