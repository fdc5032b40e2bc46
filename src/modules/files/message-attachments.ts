import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';
import { AppError } from '../../errors/app-error.js';
import type { MessageAttachments, ResolvedAttachment } from '../im/message-attachments.js';
import { fileInfoOf, FileStatus } from './file.entity.js';
import type { FileRepository } from './file.repository.js';
import { fitsMessageType } from './file-type-policy.js';
import { FileErrors } from './files.errors.js';

/** Keys a client may put in a file message's content (docs/files.md); the rest is refused. */
const CONTENT_KEYS = new Set(['fileId', 'name', 'size', 'mime', 'width', 'height', 'duration']);

/**
 * The files side of file messages. The client names the file; the server checks
 * the sender uploaded it and that its type fits the message type, and stores the
 * metadata it recorded (name, size, mime, dimensions), not the client's copy.
 * Only `duration` (of voice and video, measured by the client that recorded it)
 * is taken from the client.
 */
export class FileAttachments implements MessageAttachments {
  constructor(
    private readonly files: FileRepository,
    private readonly db: Kysely<Database>,
  ) {}

  async resolve(
    senderId: string,
    msg: { mType: number; content: string },
  ): Promise<ResolvedAttachment> {
    const claimed = parseContent(msg.content);
    const [file] = await this.files.findManyByIds(this.db, [claimed.fileId]);
    if (!file || file.status !== FileStatus.ready) {
      throw new AppError(FileErrors.fileNotFound, `file ${claimed.fileId} not found`);
    }
    if (file.ownerId !== senderId) throw new AppError(FileErrors.notFileOwner);
    if (!fitsMessageType(msg.mType, file.mime)) {
      throw new AppError(
        FileErrors.attachmentTypeMismatch,
        `a message of mType ${msg.mType} cannot carry a file of type ${file.mime}`,
      );
    }
    const content = {
      ...fileInfoOf(file),
      ...(claimed.duration !== undefined ? { duration: claimed.duration } : {}),
    };
    return { content: JSON.stringify(content), fileIds: [file.id] };
  }

  async link(
    trx: Kysely<Database>,
    ref: { msgId: string; conversationId: string; fileIds: string[]; now: number },
  ): Promise<void> {
    await this.files.addRefs(
      trx,
      ref.fileIds.map((fileId) => ({
        fileId,
        msgId: ref.msgId,
        conversationId: ref.conversationId,
        createdAt: ref.now,
      })),
    );
  }

  async release(trx: Kysely<Database>, msgId: string): Promise<void> {
    await this.files.removeRefsOf(trx, msgId);
  }
}

function parseContent(text: string): { fileId: string; duration?: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError(FileErrors.attachmentInvalid, 'content is not JSON text');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError(FileErrors.attachmentInvalid);
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => !CONTENT_KEYS.has(k));
  if (unknown !== undefined) {
    throw new AppError(
      FileErrors.attachmentInvalid,
      `content has an unknown key "${unknown.slice(0, 40)}"`,
    );
  }
  const { fileId, duration } = record;
  if (typeof fileId !== 'string' || !/^[0-9A-Za-z]{1,32}$/.test(fileId)) {
    throw new AppError(FileErrors.attachmentInvalid, 'content.fileId must be a file id');
  }
  if (
    duration !== undefined &&
    (typeof duration !== 'number' ||
      !Number.isFinite(duration) ||
      duration < 0 ||
      duration > 86_400_000)
  ) {
    throw new AppError(
      FileErrors.attachmentInvalid,
      'content.duration must be milliseconds (0 to 86,400,000)',
    );
  }
  return { fileId, ...(duration !== undefined ? { duration } : {}) };
}
