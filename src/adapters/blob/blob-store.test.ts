import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../../../test/support/s3-server.js';
import { blobStoreContract } from './blob-store.contract.js';
import { DiskBlobStore } from './disk-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

blobStoreContract('disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'easy-chat-blobs-'));
  dirs.push(dir);
  return new DiskBlobStore(dir);
});

let s3: TestS3 | undefined;
const s3Options = (server: TestS3) => ({
  endpoint: server.endpoint,
  region: 'us-east-1',
  bucket: server.bucket,
  prefix: 'contract/',
  forcePathStyle: true,
  accessKeyId: server.accessKeyId,
  secretAccessKey: server.secretAccessKey,
});

blobStoreContract('s3 (s3rver on loopback)', async () => {
  s3 = await startTestS3();
  return new S3BlobStore(s3Options(s3));
});
afterAll(async () => {
  await s3?.close();
});

describe('S3 blob store specifics', () => {
  let server: TestS3;
  beforeAll(async () => {
    server = await startTestS3('easy-chat-direct');
  });
  afterAll(async () => {
    await server.close();
  });

  it('hands out a presigned PUT that stores the bytes under the key', async () => {
    const store = new S3BlobStore(s3Options(server));
    const upload = await store.directUpload('f/direct', {
      contentType: 'application/octet-stream',
      size: 5,
      expiresSec: 60,
    });
    expect(upload.method).toBe('PUT');
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: 'bytes' });
    expect(put.status).toBe(200);
    expect(await store.stat('f/direct')).toEqual({ size: 5 });
    await store.close();
  });

  it('a presigned PUT with a wrong signature is refused by the server', async () => {
    const store = new S3BlobStore(s3Options(server));
    const upload = await store.directUpload('f/forged', {
      contentType: 'application/octet-stream',
      size: 5,
      expiresSec: 60,
    });
    const forged = upload.url.replace(
      /X-Amz-Signature=[0-9a-f]+/,
      `X-Amz-Signature=${'0'.repeat(64)}`,
    );
    const put = await fetch(forged, { method: 'PUT', headers: upload.headers, body: 'bytes' });
    expect(put.status).toBe(403);
    expect(await store.stat('f/forged')).toBeUndefined();
    await store.close();
  });

  it('an unreachable endpoint is a dependency outage (503), not a crash', async () => {
    const store = new S3BlobStore({ ...s3Options(server), endpoint: 'http://127.0.0.1:1' });
    await expect(store.stat('f/any')).rejects.toMatchObject({ name: 'DependencyUnavailableError' });
    await store.close();
  });

  it('the disk store has no direct uploads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'easy-chat-blobs-'));
    dirs.push(dir);
    expect(await new DiskBlobStore(dir).directUpload()).toBeUndefined();
  });
});
