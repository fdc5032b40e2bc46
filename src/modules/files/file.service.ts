import { pipeline, Readable } from 'node:stream';
import type {
  BlobRead,
  BlobStore,
  ByteRange,
  DirectUpload,
} from '../../adapters/blob/blob-store.js';
import type { Config } from '../../config/config.schema.js';
import { AppError } from '../../errors/app-error.js';
import type { Clock } from '../../shared/clock.js';
import { newId } from '../../shared/ids.js';
import { fileInfoOf, FileStatus, type FileInfo, type FileRecord } from './file.entity.js';
import type { FileLinks, FileVariant } from './file-links.js';
import type { FileRepository } from './file.repository.js';
import { cleanFileName, isAllowedType, SNIFF_BYTES, sniffType } from './file-type-policy.js';
import { FileErrors } from './files.errors.js';
import { describeImage, isDecodableImage } from './image-thumbnail.js';
import { UploadMeter } from './upload-meter.js';

export type FilesConfig = Config['files'];

/** The upload answer: the metadata plus signed links for the uploader. */
export interface FileView extends FileInfo {
  url: string;
  thumbUrl?: string;
}

export interface DirectUploadView extends DirectUpload {
  uploadId: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** A file the caller may read, and which of its blobs to send. */
export interface ReadableFile {
  file: FileRecord;
  variant: FileVariant;
  blobKey: string;
  mime: string;
}

const blobKeyOf = (id: string) => `f/${id}`;
const thumbKeyOf = (id: string) => `t/${id}`;

/**
 * Uploads, downloads and who may read what. Bytes go to the blob store as they
 * arrive; the type is sniffed from them, never taken from the client; images get
 * their dimensions and a thumbnail. A file is readable by its uploader and by the
 * participants of any conversation where a message carries it.
 */
export class FileService {
  constructor(
    private readonly deps: {
      files: FileRepository;
      blobs: BlobStore;
      links: FileLinks;
      config: FilesConfig;
      clock: Clock;
    },
  ) {}

  /**
   * Stores an upload streamed from the client. `declaredBytes` (the request's
   * Content-Length, when sent) lets a quota refusal come before any byte is read.
   */
  async upload(
    ownerId: string,
    input: { filename: string | undefined; stream: Readable; declaredBytes?: number },
  ): Promise<FileView> {
    const { blobs, files } = this.deps;
    const used = await files.bytesOwnedBy(ownerId);
    if (input.declaredBytes !== undefined) this.checkQuota(used, input.declaredBytes);
    const id = newId();
    const blobKey = blobKeyOf(id);
    const meter = new UploadMeter();
    // pipeline, not pipe: a source that closes early (a cut-off body) fails the meter
    // with ERR_STREAM_PREMATURE_CLOSE instead of leaving the store waiting forever.
    pipeline(input.stream, meter, () => undefined);
    await blobs.put(blobKey, meter, { contentType: 'application/octet-stream' });
    try {
      const mime = await sniffType(meter.head());
      this.checkType(mime);
      this.checkQuota(used, meter.bytes);
      const image = await this.describe(blobKey, id, mime, meter.bytes);
      const record: FileRecord = {
        id,
        ownerId,
        name: cleanFileName(input.filename),
        size: meter.bytes,
        mime,
        width: image?.width ?? null,
        height: image?.height ?? null,
        blobKey,
        thumbKey: image ? thumbKeyOf(id) : null,
        status: FileStatus.ready,
        createdAt: this.deps.clock(),
      };
      await files.insert(record);
      return this.view(record, ownerId);
    } catch (err) {
      await this.removeBlobs(id);
      throw err;
    }
  }

  /**
   * Announces a large upload that the client sends straight to the bucket
   * (S3 only): answers a presigned PUT, and `complete` checks what arrived.
   */
  async announceDirect(
    ownerId: string,
    input: { name: string; size: number },
  ): Promise<DirectUploadView> {
    const { blobs, config, files, clock } = this.deps;
    if (blobs.driver !== 's3') throw new AppError(FileErrors.directUploadUnavailable);
    if (input.size > config.directMaxBytes) {
      throw new AppError(
        FileErrors.fileTooLarge,
        `direct uploads are limited to ${config.directMaxBytes} bytes`,
      );
    }
    this.checkQuota(await files.bytesOwnedBy(ownerId), input.size);
    const id = newId();
    const now = clock();
    const upload = await blobs.directUpload(blobKeyOf(id), {
      contentType: 'application/octet-stream',
      size: input.size,
      expiresSec: config.uploadTtlSec,
    });
    if (!upload) throw new AppError(FileErrors.directUploadUnavailable);
    await files.insert({
      id,
      ownerId,
      name: cleanFileName(input.name),
      size: input.size,
      mime: 'application/octet-stream',
      width: null,
      height: null,
      blobKey: blobKeyOf(id),
      thumbKey: null,
      status: FileStatus.pending,
      createdAt: now,
    });
    return { uploadId: id, ...upload, expiresAt: now + config.uploadTtlSec * 1000 };
  }

  /** Checks a direct upload's bytes (size, type, image) and makes the file usable. */
  async completeDirect(ownerId: string, uploadId: string): Promise<FileView> {
    const { blobs, files } = this.deps;
    const file = await files.findById(uploadId);
    if (!file || file.ownerId !== ownerId) throw new AppError(FileErrors.uploadNotFound);
    if (file.status !== FileStatus.pending) throw new AppError(FileErrors.uploadAlreadyComplete);
    const stored = await blobs.stat(file.blobKey);
    if (!stored) throw new AppError(FileErrors.uploadSizeMismatch, 'no bytes were uploaded yet');
    try {
      if (stored.size !== file.size) {
        throw new AppError(
          FileErrors.uploadSizeMismatch,
          `announced ${file.size} bytes, received ${stored.size}`,
        );
      }
      const head = await this.readHead(file.blobKey, stored.size);
      const mime = await sniffType(head);
      this.checkType(mime);
      const image = await this.describe(file.blobKey, file.id, mime, stored.size);
      const fields = {
        mime,
        width: image?.width ?? null,
        height: image?.height ?? null,
        thumbKey: image ? thumbKeyOf(file.id) : null,
      };
      if (!(await files.complete(file.id, fields))) {
        throw new AppError(FileErrors.uploadAlreadyComplete);
      }
      return this.view({ ...file, ...fields, status: FileStatus.ready }, ownerId);
    } catch (err) {
      // A refused upload is gone: its bytes and its announcement.
      if (err instanceof AppError && err.key !== FileErrors.uploadAlreadyComplete.key) {
        await this.removeBlobs(file.id);
        await files.delete(file.id);
      }
      throw err;
    }
  }

  /** Fresh signed links for a file the caller may read. */
  async links(userId: string, fileId: string): Promise<FileView & { expiresAt: number }> {
    const file = await this.readable(userId, fileId);
    const view = this.view(file, userId);
    const { expires } = this.deps.links.link(file.id, 'file', userId, this.deps.clock());
    return { ...view, expiresAt: expires * 1000 };
  }

  /** The file (or its thumbnail) if `userId` may read it. */
  async open(userId: string, fileId: string, variant: FileVariant): Promise<ReadableFile> {
    const file = await this.readable(userId, fileId);
    if (variant === 'thumb') {
      if (!file.thumbKey) throw new AppError(FileErrors.noThumbnail);
      return { file, variant, blobKey: file.thumbKey, mime: 'image/webp' };
    }
    return { file, variant, blobKey: file.blobKey, mime: file.mime };
  }

  /** A blob's bytes (or the range of them) for a download. */
  async read(blobKey: string, range?: ByteRange): Promise<BlobRead> {
    const read = await this.deps.blobs.get(blobKey, range);
    if (!read) throw new AppError(FileErrors.fileNotFound, 'the file is missing from storage');
    return read;
  }

  private async readable(userId: string, fileId: string): Promise<FileRecord> {
    const { files } = this.deps;
    const file = await files.findById(fileId);
    if (!file || file.status !== FileStatus.ready) throw new AppError(FileErrors.fileNotFound);
    if (file.ownerId !== userId && !(await files.isSharedWith(fileId, userId))) {
      throw new AppError(FileErrors.fileForbidden);
    }
    return file;
  }

  private view(file: FileRecord, userId: string): FileView {
    const now = this.deps.clock();
    return {
      ...fileInfoOf(file),
      url: this.deps.links.link(file.id, 'file', userId, now).url,
      ...(file.thumbKey
        ? { thumbUrl: this.deps.links.link(file.id, 'thumb', userId, now).url }
        : {}),
    };
  }

  private checkType(mime: string): void {
    if (!isAllowedType(mime, this.deps.config.allowedTypes)) {
      throw new AppError(FileErrors.fileTypeNotAllowed, `files of type ${mime} are not accepted`);
    }
  }

  private checkQuota(used: number, adding: number): void {
    const { quotaBytes } = this.deps.config;
    if (used + adding > quotaBytes) {
      throw new AppError(
        FileErrors.quotaExceeded,
        `this upload needs ${adding} bytes; ${Math.max(0, quotaBytes - used)} of your ${quotaBytes} are left`,
      );
    }
  }

  /**
   * Dimensions and a thumbnail for decodable images up to `files.maxBytes` (larger
   * direct uploads are kept as plain files rather than decoded in memory).
   */
  private async describe(
    blobKey: string,
    id: string,
    mime: string,
    size: number,
  ): Promise<{ width: number; height: number } | undefined> {
    const { blobs, config } = this.deps;
    if (!isDecodableImage(mime) || size > config.maxBytes) return undefined;
    const read = await blobs.get(blobKey);
    if (!read) throw new AppError(FileErrors.fileNotFound);
    const facts = await describeImage(read.body, {
      maxPixels: config.maxImagePixels,
      size: config.thumbSize,
    });
    await blobs.put(thumbKeyOf(id), Readable.from([facts.thumbnail]), {
      contentType: 'image/webp',
    });
    return { width: facts.width, height: facts.height };
  }

  private async readHead(blobKey: string, size: number): Promise<Buffer> {
    if (size === 0) return Buffer.alloc(0);
    const read = await this.deps.blobs.get(blobKey, {
      start: 0,
      end: Math.min(size, SNIFF_BYTES) - 1,
    });
    if (!read) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** Deletes a file's blobs (missing ones are fine). */
  async removeBlobs(id: string): Promise<void> {
    await this.deps.blobs.delete(blobKeyOf(id));
    await this.deps.blobs.delete(thumbKeyOf(id));
  }
}
