import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newId } from '../../shared/ids.js';
import {
  assertSafeKey,
  type BlobInfo,
  type BlobRead,
  type BlobStore,
  type ByteRange,
} from './blob-store.js';

/**
 * Blobs as files under one directory (DATA_DIR/files by default). A blob is written
 * to a temporary name, fsynced and renamed into place, so a reader never sees half
 * a file and a crash leaves only a `.part` file (removed by the next put of that key
 * or by hand).
 */
export class DiskBlobStore implements BlobStore {
  readonly driver = 'disk' as const;
  private readonly root: string;

  constructor(dir: string) {
    this.root = resolve(dir);
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`blob key escapes the store: ${key}`);
    return path;
  }

  async put(key: string, body: Readable): Promise<BlobInfo> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${newId()}.part`;
    try {
      const out = createWriteStream(temp, { flags: 'wx' });
      await pipeline(body, out);
      const handle = await open(temp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return { size: (await stat(path)).size };
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | undefined> {
    const info = await this.stat(key);
    if (!info) return undefined;
    const body = createReadStream(
      this.pathOf(key),
      range ? { start: range.start, end: range.end } : {},
    );
    return { body, size: info.size };
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async directUpload(): Promise<undefined> {
    return undefined;
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async close(): Promise<void> {}
}

/** The default directory of the disk store. */
export function defaultBlobDir(dataDir: string): string {
  return join(dataDir, 'files');
}
