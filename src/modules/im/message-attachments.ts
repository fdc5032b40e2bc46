import type { Kysely } from 'kysely';
import type { Database } from '../../adapters/storage/schema.js';

/** A file message's content as it will be stored, and the files it carries. */
export interface ResolvedAttachment {
  content: string;
  fileIds: string[];
}

/**
 * What IM needs from the files module (which implements it): check the file a
 * message carries (mType 1 image, 2 file, 4 voice, 5 video) and link it to the
 * message inside the message's transaction, so its conversation may read it.
 */
export interface MessageAttachments {
  /** Checks the content and answers it filled in with the stored metadata; throws AppError. */
  resolve(senderId: string, msg: { mType: number; content: string }): Promise<ResolvedAttachment>;
  /** Links the files to the stored message (same transaction as the message). */
  link(
    trx: Kysely<Database>,
    ref: { msgId: string; conversationId: string; fileIds: string[]; now: number },
  ): Promise<void>;
  /**
   * Unlinks a message's files (a recalled or deleted message), in the caller's
   * transaction: its conversation stops being able to read them.
   */
  release(trx: Kysely<Database>, msgId: string): Promise<void>;
}
