import type { Readable } from 'node:stream';

/** A byte range, both ends inclusive (as in an HTTP Range header). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobInfo {
  size: number;
}

/** A stored blob being read: its bytes (the range asked for, or all) and its full size. */
export interface BlobRead {
  body: Readable;
  size: number;
}

/** Where a client may PUT a blob's bytes itself (a presigned URL), and until when. */
export interface DirectUpload {
  url: string;
  method: 'PUT';
  /** Headers the client must send with the PUT (they are part of the signature). */
  headers: Record<string, string>;
}

/**
 * Where uploaded bytes live. Keys are made by the files module (`f/<id>`,
 * `t/<id>`), never from client input. Two implementations pass one contract test
 * (blob-store.contract.ts): `disk` under DATA_DIR, the embedded default, and `s3`
 * for S3-compatible services (AWS, MinIO, Ceph).
 */
export interface BlobStore {
  readonly driver: 'disk' | 's3';
  /**
   * Stores a stream under `key`, replacing any blob there. Resolves once the bytes are
   * durable; on a stream error nothing is left under `key` and the error is thrown.
   */
  put(key: string, body: Readable, options: { contentType: string }): Promise<BlobInfo>;
  /** Reads a blob, or the inclusive `range` of it; undefined when there is none. */
  get(key: string, range?: ByteRange): Promise<BlobRead | undefined>;
  /** The blob's size, or undefined when there is none. */
  stat(key: string): Promise<BlobInfo | undefined>;
  /** Deletes a blob; deleting a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * A URL the client can PUT the bytes to directly, valid for `expiresSec`; undefined
   * when the store takes bytes only through the server (disk).
   */
  directUpload(
    key: string,
    options: { contentType: string; size: number; expiresSec: number },
  ): Promise<DirectUpload | undefined>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Keys are ours, but a stray one must never reach outside the store. */
export function assertSafeKey(key: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9/_.-]{0,200}$/.test(key) || key.includes('..')) {
    throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  }
}
