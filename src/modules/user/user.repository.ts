import { sql, type Kysely } from 'kysely';
import { isMysql } from '../../adapters/storage/portable.js';
import type { Database, UsersTable } from '../../adapters/storage/schema.js';
import {
  DELETED_NICKNAME,
  UserStatus,
  type Sex,
  type User,
  type UserCredentials,
} from './user.entity.js';

const PUBLIC_COLUMNS = [
  'id',
  'phone',
  'nickname',
  'sex',
  'avatar',
  'status',
  'createdAt',
  'updatedAt',
] as const;

export interface UserSearch {
  ids?: string[];
  phone?: string;
  /** Substring of the nickname, matched case-insensitively. */
  name?: string;
  limit: number;
}

/** The admin API's search: one free-text query, paged by id. */
export interface AdminUserSearch {
  /** Matches an exact id, a phone prefix or a nickname substring; absent: every user. */
  query?: string;
  /** Only ids after this one (the previous page's last id). */
  after?: string;
  limit: number;
}

export interface UserPatch {
  nickname?: string;
  sex?: number;
  avatar?: string;
}

/**
 * Users in SQL. One implementation serves SQLite and PostgreSQL because every
 * query goes through Kysely with bound parameters; no SQL is built from strings.
 */
export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Writes exactly the listed columns (never a spread: an extra key must not reach SQL). */
  async insert(trx: Kysely<Database>, row: UsersTable): Promise<void> {
    await trx
      .insertInto('users')
      .values({
        id: row.id,
        phone: row.phone,
        nickname: row.nickname,
        passwordHash: row.passwordHash,
        sex: row.sex,
        avatar: row.avatar,
        status: row.status,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      })
      .execute();
  }

  /** A user who has not deleted the account (a deleted one is "not found" everywhere but history). */
  async findById(id: string, q: Kysely<Database> = this.db): Promise<User | undefined> {
    const row = await q
      .selectFrom('users')
      .select(PUBLIC_COLUMNS)
      .where('id', '=', id)
      .where('status', '!=', UserStatus.deleted)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async findCredentialsById(id: string): Promise<UserCredentials | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'passwordHash', 'status'])
      .where('id', '=', id)
      .where('status', '!=', UserStatus.deleted)
      .executeTakeFirst();
    return row && { id: row.id, passwordHash: row.passwordHash, status: row.status as UserStatus };
  }

  async setPasswordHash(
    trx: Kysely<Database>,
    id: string,
    passwordHash: string,
    now: number,
  ): Promise<boolean> {
    const res = await trx
      .updateTable('users')
      .set({ passwordHash, updatedAt: now })
      .where('id', '=', id)
      .where('status', '!=', UserStatus.deleted)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /**
   * Deletes an account but keeps its row, which messages and events name: the
   * phone is freed (replaced by a tombstone no real phone can equal: real ones
   * are digits), the profile replaced, the password hash emptied (no password
   * verifies against it). False when it was already deleted or never existed.
   */
  async markDeleted(trx: Kysely<Database>, id: string, now: number): Promise<boolean> {
    const res = await trx
      .updateTable('users')
      .set({
        phone: `~${id.slice(-19)}`,
        nickname: DELETED_NICKNAME,
        avatar: '',
        sex: 0,
        passwordHash: '',
        status: UserStatus.deleted,
        updatedAt: now,
      })
      .where('id', '=', id)
      .where('status', '!=', UserStatus.deleted)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async existsByPhone(phone: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('phone', '=', phone)
      .executeTakeFirst();
    return row !== undefined;
  }

  async findCredentialsByPhone(phone: string): Promise<UserCredentials | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'passwordHash', 'status'])
      .where('phone', '=', phone)
      .executeTakeFirst();
    return row && { id: row.id, passwordHash: row.passwordHash, status: row.status as UserStatus };
  }

  /** Users matching every given filter, in id (creation) order, at most `limit`. */
  async search(query: UserSearch): Promise<User[]> {
    let q = this.db.selectFrom('users').select(PUBLIC_COLUMNS);
    if (query.ids) q = q.where('id', 'in', query.ids.length > 0 ? query.ids : ['']);
    // Deleted accounts are found by id only (to name the sender of old messages).
    if (query.phone !== undefined || query.name !== undefined) {
      q = q.where('status', '!=', UserStatus.deleted);
    }
    if (query.phone !== undefined) q = q.where('phone', '=', query.phone);
    if (query.name !== undefined) {
      // lower() + LIKE behaves the same on every engine (PostgreSQL's LIKE is
      // case-sensitive, SQLite's is not); the user's % and _ are escaped, with "!"
      // because a backslash means something else in MySQL's string literals.
      const pattern = `%${escapeLike(query.name.toLowerCase())}%`;
      q = q.where(sql<boolean>`lower(nickname) like ${pattern} escape '!'`);
    }
    const rows = await q.orderBy('id').limit(query.limit).execute();
    return rows.map(toUser);
  }

  /**
   * Users for the admin API, deleted ones included (their status says so), in id
   * (creation) order. A deleted account's phone and nickname are tombstones, so it
   * is in practice found by its id only.
   */
  async adminSearch(search: AdminUserSearch): Promise<User[]> {
    let q = this.db.selectFrom('users').select(PUBLIC_COLUMNS);
    if (search.after !== undefined) q = q.where('id', '>', search.after);
    const text = search.query;
    if (text !== undefined && text !== '') {
      const phonePrefix = `${escapeLike(text)}%`;
      const nickname = `%${escapeLike(text.toLowerCase())}%`;
      q = q.where((eb) =>
        eb.or([
          eb('id', '=', text),
          sql<boolean>`phone like ${phonePrefix} escape '!'`,
          sql<boolean>`lower(nickname) like ${nickname} escape '!'`,
        ]),
      );
    }
    const rows = await q.orderBy('id').limit(search.limit).execute();
    return rows.map(toUser);
  }

  /**
   * Replaces a password hash by a new one of the same password, unless it changed
   * meanwhile (a concurrent login re-hashed it first). True if replaced.
   */
  async replacePasswordHash(id: string, oldHash: string, newHash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ passwordHash: newHash })
      .where('id', '=', id)
      .where('passwordHash', '=', oldHash)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Sets the status; returns the previous one, or undefined when there is no such (undeleted) user. */
  async setStatus(
    trx: Kysely<Database>,
    id: string,
    status: UserStatus,
    now: number,
  ): Promise<UserStatus | undefined> {
    const before = await trx
      .selectFrom('users')
      .select('status')
      .where('id', '=', id)
      .where('status', '!=', UserStatus.deleted)
      .executeTakeFirst();
    if (!before) return undefined;
    await trx.updateTable('users').set({ status, updatedAt: now }).where('id', '=', id).execute();
    return before.status as UserStatus;
  }

  async update(
    trx: Kysely<Database>,
    id: string,
    patch: UserPatch,
    now: number,
  ): Promise<User | undefined> {
    // Only the profile fields, named one by one: whatever else `patch` carries at
    // run time (a password hash, an id) is never written.
    const update = trx
      .updateTable('users')
      .set({
        nickname: patch.nickname,
        sex: patch.sex,
        avatar: patch.avatar,
        updatedAt: now,
      })
      .where('id', '=', id);
    if (isMysql(trx)) {
      // No UPDATE … RETURNING on MySQL: read the row back inside the same transaction.
      const { numUpdatedRows } = await update.executeTakeFirst();
      return numUpdatedRows > 0n ? this.findById(id, trx) : undefined;
    }
    const row = await update.returning(PUBLIC_COLUMNS).executeTakeFirst();
    return row && toUser(row);
  }
}

function escapeLike(value: string): string {
  return value.replace(/[!%_]/g, (c) => `!${c}`);
}

function toUser(row: Pick<UsersTable, (typeof PUBLIC_COLUMNS)[number]>): User {
  return { ...row, sex: row.sex as Sex, status: row.status as UserStatus };
}
