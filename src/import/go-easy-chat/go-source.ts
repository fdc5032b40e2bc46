import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';

/**
 * The Go easy-chat's MySQL database, read-only: its six tables as goctl's DDL
 * created them (users, friends, friend_requests, groups, group_members,
 * group_requests). Rows are read in primary-key order, a page at a time, so a
 * table of any size is read with bounded memory.
 */

export interface GoUser {
  id: string;
  avatar: string | null;
  nickname: string | null;
  phone: string | null;
  password: string | null;
  status: number | null;
  sex: number | null;
  created_at: Date | null;
  updated_at: Date | null;
}

export interface GoFriend {
  id: number;
  user_id: string;
  friend_uid: string;
  remark: string | null;
  add_source: number | null;
  created_at: Date | null;
}

export interface GoFriendRequest {
  id: number;
  user_id: string;
  req_uid: string;
  req_msg: string | null;
  req_time: Date | null;
  handle_result: number | null;
  handle_msg: string | null;
  handled_at: Date | null;
}

export interface GoGroup {
  id: string;
  name: string | null;
  icon: string | null;
  status: number | null;
  creator_uid: string;
  group_type: number | null;
  is_verify: number | null;
  notification: string | null;
  notification_uid: string | null;
  created_at: Date | null;
  updated_at: Date | null;
}

export interface GoGroupMember {
  id: number;
  group_id: string;
  user_id: string;
  role_level: number | null;
  join_time: Date | null;
  join_source: number | null;
  inviter_uid: string | null;
  operator_uid: string | null;
}

export interface GoGroupRequest {
  id: number;
  req_id: string;
  group_id: string;
  req_msg: string | null;
  req_time: Date | null;
  join_source: number | null;
  inviter_user_id: string | null;
  handle_user_id: string | null;
  handle_time: Date | null;
  handle_result: number | null;
}

export interface GoTables {
  users: GoUser;
  friends: GoFriend;
  friend_requests: GoFriendRequest;
  groups: GoGroup;
  group_members: GoGroupMember;
  group_requests: GoGroupRequest;
}

export type GoTable = keyof GoTables;

/** In the order they are imported: what a row refers to is imported before it. */
export const GO_TABLES: readonly GoTable[] = [
  'users',
  'friends',
  'friend_requests',
  'groups',
  'group_members',
  'group_requests',
];

export class GoSource {
  private constructor(private readonly connection: Connection) {}

  static async open(url: string): Promise<GoSource> {
    const connection = await createConnection({
      uri: url.replace(/^mariadb:/i, 'mysql:'),
      // TIMESTAMP columns are read in UTC and arrive as Dates of the right instant.
      timezone: 'Z',
      charset: 'UTF8MB4_GENERAL_CI',
    });
    await connection.query("set session time_zone = '+00:00'");
    return new GoSource(connection);
  }

  /** The server's URL without its password, for messages. */
  static describe(url: string): string {
    const parsed = new URL(url.replace(/^mariadb:/i, 'mysql:'));
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  }

  async count(table: GoTable): Promise<number> {
    const [rows] = await this.connection.query<RowDataPacket[]>(
      `select count(*) as n from \`${table}\``,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Every row of `table` in id order, `pageSize` at a time. */
  async *pages<T extends GoTable>(table: T, pageSize: number): AsyncGenerator<GoTables[T][]> {
    let after: string | number | undefined;
    for (;;) {
      const [rows] = await this.connection.query<RowDataPacket[]>(
        after === undefined
          ? `select * from \`${table}\` order by id limit ?`
          : `select * from \`${table}\` where id > ? order by id limit ?`,
        after === undefined ? [pageSize] : [after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows as unknown as GoTables[T][];
      after = (rows[rows.length - 1] as { id: string | number }).id;
      if (rows.length < pageSize) return;
    }
  }

  async close(): Promise<void> {
    await this.connection.end();
  }
}
