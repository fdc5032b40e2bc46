import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { BlobStore } from '../../adapters/blob/blob-store.js';
import type { Database } from '../../adapters/storage/schema.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { FileLinks } from './file-links.js';
import { FileRepository } from './file.repository.js';
import { FileService, type FilesConfig } from './file.service.js';
import { FileSweeper } from './file-sweeper.js';
import { FileAttachments } from './message-attachments.js';

export { filesRoutes } from './files.routes.js';
export { FileErrors } from './files.errors.js';
export { FileSweeper } from './file-sweeper.js';
export type { FileService } from './file.service.js';

export interface FilesModule {
  service: FileService;
  /** IM's MessageAttachments port. */
  attachments: FileAttachments;
  links: FileLinks;
  blobs: BlobStore;
  /** Built here, started by worker processes only. */
  sweeper: FileSweeper;
}

/** Builds the files module on its repository and the chosen blob store. */
export function createFilesModule(deps: {
  db: Kysely<Database>;
  blobs: BlobStore;
  config: FilesConfig;
  /** Signs download links (a key is derived from it; the JWT secret serves). */
  secret: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}): FilesModule {
  const files = new FileRepository(deps.db);
  const links = new FileLinks(deps.secret, deps.config.linkTtlSec);
  const service = new FileService({
    files,
    blobs: deps.blobs,
    links,
    config: deps.config,
    clock: deps.clock,
  });
  const sweeper = new FileSweeper({
    files,
    removeBlobs: (id) => service.removeBlobs(id),
    orphanHours: deps.config.orphanHours,
    intervalSec: deps.config.sweepIntervalSec,
    clock: deps.clock,
    logger: deps.logger,
    registry: deps.registry,
  });
  return {
    service,
    attachments: new FileAttachments(files, deps.db),
    links,
    blobs: deps.blobs,
    sweeper,
  };
}
