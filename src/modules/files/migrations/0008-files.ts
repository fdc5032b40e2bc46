import type { Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Uploaded files and which messages carry them.
 * - `files` holds the metadata; the bytes live in the blob store under `blob_key`
 *   (and the thumbnail under `thumb_key`). `status` 0 is an announced direct upload
 *   whose bytes have not been confirmed, 1 a ready file.
 * - `file_refs` links a file to each message that carries it (and that message's
 *   conversation): a participant of that conversation may read the file. Removing
 *   the rows (a recalled message) stops that access; a file with no rows past
 *   `files.orphanHours` is swept.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // On MySQL: InnoDB, utf8mb4 (file names with emoji), byte-wise collation.
  const createTable = await tableMaker(db, dialect);
  await createTable('files')
    .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('mime', 'varchar(127)', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('blob_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('thumb_key', 'varchar(200)')
    .addColumn('status', 'smallint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('files_owner_idx').on('files').column('owner_id').execute();
  await db.schema.createIndex('files_created_idx').on('files').column('created_at').execute();

  await createTable('file_refs')
    .addColumn('file_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('msg_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('conversation_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('file_refs_pk', ['file_id', 'msg_id'])
    .execute();
  await db.schema.createIndex('file_refs_msg_idx').on('file_refs').column('msg_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('file_refs').execute();
  await db.schema.dropTable('files').execute();
}
