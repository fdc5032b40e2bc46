import type { Kysely } from 'kysely';
import { UserStatus } from '../user/user.entity.js';
import type { Database } from '../../adapters/storage/schema.js';
import { FileStatus, type FileRecord } from './file.entity.js';

/** SQL access to `files` and `file_refs`. */
export class FileRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(file: FileRecord): Promise<void> {
    await this.db
      .insertInto('files')
      .values({
        id: file.id,
        ownerId: file.ownerId,
        name: file.name,
        size: file.size,
        mime: file.mime,
        width: file.width,
        height: file.height,
        blobKey: file.blobKey,
        thumbKey: file.thumbKey,
        status: file.status,
        createdAt: file.createdAt,
      })
      .execute();
  }

  async findById(id: string): Promise<FileRecord | undefined> {
    return this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findManyByIds(db: Kysely<Database>, ids: string[]): Promise<FileRecord[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('files').selectAll().where('id', 'in', ids).execute();
  }

  /** Marks an announced upload ready with what was found in its bytes. */
  async complete(
    id: string,
    fields: Pick<FileRecord, 'mime' | 'width' | 'height' | 'thumbKey'>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('files')
      .set({
        mime: fields.mime,
        width: fields.width,
        height: fields.height,
        thumbKey: fields.thumbKey,
        status: FileStatus.ready,
      })
      .where('id', '=', id)
      .where('status', '=', FileStatus.pending)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('fileRefs').where('fileId', '=', id).execute();
    await this.db.deleteFrom('files').where('id', '=', id).execute();
  }

  /** Bytes a user holds (ready files and announced uploads). */
  async bytesOwnedBy(ownerId: string): Promise<number> {
    const row = await this.db
      .selectFrom('files')
      .select((eb) => eb.fn.sum<number | string | null>('size').as('total'))
      .where('ownerId', '=', ownerId)
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  /** Whether `userId` takes part in a conversation where a message carries the file. */
  async isSharedWith(fileId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('fileRefs')
      .innerJoin(
        'conversationMembers',
        'conversationMembers.conversationId',
        'fileRefs.conversationId',
      )
      .select('fileRefs.fileId')
      .where('fileRefs.fileId', '=', fileId)
      .where('conversationMembers.userId', '=', userId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async addRefs(
    trx: Kysely<Database>,
    refs: Array<{ fileId: string; msgId: string; conversationId: string; createdAt: number }>,
  ): Promise<void> {
    if (refs.length === 0) return;
    await trx
      .insertInto('fileRefs')
      .values(
        refs.map((r) => ({
          fileId: r.fileId,
          msgId: r.msgId,
          conversationId: r.conversationId,
          createdAt: r.createdAt,
        })),
      )
      .execute();
  }

  async removeRefsOf(trx: Kysely<Database>, msgId: string): Promise<number> {
    const result = await trx.deleteFrom('fileRefs').where('msgId', '=', msgId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Files no message carries, created before `before`: uploads never sent, and
   * files whose messages were all recalled.
   */
  async unreferencedBefore(before: number, limit: number): Promise<FileRecord[]> {
    return this.db
      .selectFrom('files')
      .selectAll()
      .where('createdAt', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('fileRefs')
              .select('fileRefs.fileId')
              .whereRef('fileRefs.fileId', '=', 'files.id'),
          ),
        ),
      )
      .orderBy('createdAt')
      .limit(limit)
      .execute();
  }

  /** Files whose owner's account no longer exists. */
  async ownerlessFiles(limit: number): Promise<FileRecord[]> {
    return this.db
      .selectFrom('files')
      .selectAll()
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('users')
              .select('users.id')
              .whereRef('users.id', '=', 'files.ownerId')
              // A deleted account keeps its row (a tombstone messages still name).
              .where('users.status', '!=', UserStatus.deleted),
          ),
        ),
      )
      .limit(limit)
      .execute();
  }
}
