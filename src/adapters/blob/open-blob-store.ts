import type { Config } from '../../config/config.schema.js';
import type { BlobStore } from './blob-store.js';
import { defaultBlobDir, DiskBlobStore } from './disk-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The blob store chosen by `files.storage`. */
export function openBlobStore(config: Config): BlobStore {
  const { files } = config;
  if (files.storage === 's3') return new S3BlobStore(files.s3);
  return new DiskBlobStore(files.disk.dir || defaultBlobDir(config.dataDir));
}
