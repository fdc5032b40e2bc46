/**
 * The SDK's direct upload against a real server on S3 storage (s3rver on loopback):
 * the bytes go to the presigned URL with progress, never through the API, and the
 * server checks them; on disk storage the same call is refused with its code.
 */
import { ApiError, ChatClient, type UploadProgress } from '@easy-chat/sdk';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/factories.js';
import { makePdf } from '../support/files.js';
import { startTestS3, type TestS3 } from '../support/s3-server.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('SDK direct uploads to S3 (s3rver on loopback)', () => {
  let s3: TestS3;
  let t: TestApp;

  beforeAll(async () => {
    s3 = await startTestS3();
    t = await startTestApp({
      overrides: {
        files: {
          storage: 's3',
          s3: {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            region: 'us-east-1',
            prefix: 'sdk/',
            forcePathStyle: true,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
          },
        },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it('uploadFileDirect puts the bytes in the bucket and completes; the file reads back', async () => {
    const user = await createUser(t.client);
    const api = new ChatClient({ baseUrl: t.url, token: user.token, WebSocket }).api;
    const pdf = Buffer.concat([makePdf(), Buffer.alloc(200 * 1024, 0x20)]);
    const progress: UploadProgress[] = [];
    const file = await api.uploadFileDirect(new Blob([pdf]), {
      name: 'large.pdf',
      onProgress: (p) => progress.push(p),
    });
    expect(file).toMatchObject({ name: 'large.pdf', size: pdf.length, mime: 'application/pdf' });
    expect(progress.at(-1)).toEqual({ loaded: pdf.length, total: pdf.length });
    const back = Buffer.from(await (await api.downloadFile(file.fileId)).arrayBuffer());
    expect(back.equals(pdf)).toBe(true);
  });

  it('on disk storage it is refused with 409 / 600018', async () => {
    const disk = await startTestApp();
    try {
      const user = await createUser(disk.client);
      const api = new ChatClient({ baseUrl: disk.url, token: user.token, WebSocket }).api;
      const err = await api.uploadFileDirect(new Blob([makePdf()])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: 600018, status: 409 });
    } finally {
      await disk.close();
    }
  });
});
