import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DependencyUnavailableError } from '../unavailable.js';
import {
  assertSafeKey,
  type BlobInfo,
  type BlobRead,
  type BlobStore,
  type ByteRange,
  type DirectUpload,
} from './blob-store.js';

export interface S3BlobStoreOptions {
  /** Empty: AWS's endpoint for the region. Set for MinIO, Ceph or a local server. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Keys are `${prefix}${key}` (several deployments can share a bucket). */
  prefix: string;
  /** Path-style URLs (`host/bucket/key`), which MinIO and Ceph usually need. */
  forcePathStyle: boolean;
  /** Empty: the SDK's default chain (environment, profile, instance role). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Where a streamed upload is spooled before it is sent (S3 needs its length). */
  spoolDir?: string;
}

/**
 * Blobs in an S3 bucket through the official SDK. A put spools the stream to a
 * temporary file first: PutObject needs the length up front, and the uploads that
 * pass through the server are bounded by `files.maxBytes` (large ones go straight
 * to the bucket with a presigned PUT, see `directUpload`).
 */
export class S3BlobStore implements BlobStore {
  readonly driver = 's3' as const;
  private readonly client: S3Client;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.accessKeyId
        ? {
            credentials: {
              accessKeyId: options.accessKeyId,
              secretAccessKey: options.secretAccessKey,
            },
          }
        : {}),
      // A dead endpoint must answer 503 soon, not hold the request for minutes.
      maxAttempts: 2,
      // Checksums only where S3 requires them: the SDK's default (CRC32 trailers on
      // every upload) is not understood by many S3-compatible servers (Ceph, older
      // MinIO, s3rver).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private keyOf(key: string): string {
    assertSafeKey(key);
    return `${this.options.prefix}${key}`;
  }

  async put(key: string, body: Readable, options: { contentType: string }): Promise<BlobInfo> {
    const objectKey = this.keyOf(key);
    const dir = await mkdtemp(join(this.options.spoolDir ?? tmpdir(), 'easy-chat-s3-'));
    try {
      const spool = join(dir, 'blob');
      await pipeline(body, createWriteStream(spool));
      const { size } = await stat(spool);
      await this.call(() =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.options.bucket,
            Key: objectKey,
            Body: createReadStream(spool),
            ContentLength: size,
            ContentType: options.contentType,
          }),
        ),
      );
      return { size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | undefined> {
    const objectKey = this.keyOf(key);
    try {
      const out = await this.call(() =>
        this.client.send(
          new GetObjectCommand({
            Bucket: this.options.bucket,
            Key: objectKey,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        ),
      );
      const size = range ? totalOfContentRange(out.ContentRange) : out.ContentLength;
      if (size === undefined || !(out.Body instanceof Readable)) {
        throw new Error('S3 answered GetObject without a size or a body');
      }
      return { body: out.Body, size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const out = await this.call(() =>
        this.client.send(
          new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }),
        ),
      );
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.call(() =>
      this.client.send(
        new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }),
      ),
    );
  }

  async directUpload(
    key: string,
    options: { contentType: string; size: number; expiresSec: number },
  ): Promise<DirectUpload> {
    const command = new PutObjectCommand({
      Bucket: this.options.bucket,
      Key: this.keyOf(key),
      ContentType: options.contentType,
    });
    const url = await getSignedUrl(this.client, command, { expiresIn: options.expiresSec });
    return { url, method: 'PUT', headers: { 'content-type': options.contentType } };
  }

  /** Reachable and the bucket answers (a missing probe object is fine; GetObject rights suffice). */
  async ping(): Promise<void> {
    await this.stat('ping');
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Runs an S3 call; an unreachable endpoint becomes DependencyUnavailableError (503). */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (isUnreachable(err))
        throw new DependencyUnavailableError('object storage', { cause: err });
      throw err;
    }
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** Network failures and 5xx answers: the store is down, not the request wrong. */
function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500;
  return (
    e.name === 'TimeoutError' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(
      e.code ?? '',
    )
  );
}

/** The total of a `Content-Range: bytes 0-9/100` answer. */
function totalOfContentRange(header: string | undefined): number | undefined {
  const match = header ? /\/(\d+)$/.exec(header) : null;
  return match ? Number(match[1]) : undefined;
}
