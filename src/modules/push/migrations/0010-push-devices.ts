import type { Kysely } from 'kysely';
import { tableMaker } from '../../../adapters/storage/ddl.js';
import type { Dialect } from '../../../adapters/storage/dialect.js';

/**
 * Push devices: one row per (user, device id); registering the same device id
 * again replaces the row. `token` is the FCM/APNs token or, for Web Push, the
 * subscription's endpoint (with its `p256dh` and `auth` keys beside it). The
 * registration is bound to the access token that made it (`token_jti`, `token_iat`,
 * `token_exp`): it ends when that token stops working (logout, password change,
 * disabled or deleted account, expiry), see device.service.ts.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // On MySQL: InnoDB, utf8mb4, byte-wise collation (ids compare exactly).
  const createTable = await tableMaker(db, dialect);
  await createTable('push_devices')
    .addColumn('user_id', 'varchar(32)', (c) => c.notNull())
    .addColumn('device_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('platform', 'varchar(16)', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('p256dh', 'varchar(128)')
    .addColumn('auth', 'varchar(64)')
    .addColumn('locale', 'varchar(35)')
    .addColumn('token_jti', 'varchar(32)', (c) => c.notNull())
    .addColumn('token_iat', 'bigint', (c) => c.notNull())
    .addColumn('token_exp', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('push_devices_pkey', ['user_id', 'device_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('push_devices').execute();
}
