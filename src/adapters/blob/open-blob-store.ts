import type { Config } from '../../config/config.schema.js';
import type { BlobStore } from './blob-store.js';
import { defaultBlobDir, DiskBlobStore } from './disk-blob-store.js';

/** The blob store chosen by `files.storage`. */
export async function openBlobStore(config: Config): Promise<BlobStore> {
  const { files } = config;
  if (files.storage === 's3') {
    // The AWS SDK is large: loaded only by deployments that use it.
    const { S3BlobStore } = await import('./s3-blob-store.js');
    return new S3BlobStore(files.s3);
  }
  return new DiskBlobStore(files.disk.dir || defaultBlobDir(config.dataDir));
}
