/**
 * The ceiling of bench/history.ts: the least a server can do to answer easy-chat's
 * history page — `node:http`, an HS256 check of the same bearer token, the reader's
 * membership row and the page itself read with prepared statements from easy-chat's
 * own database (the SQLite file in WAL mode, or the PostgreSQL schema), answered in
 * the same envelope `{code, msg, data: {list}}` with the same message fields.
 *
 * What it leaves out is what the ratio measures: Fastify's routing, schema validation
 * and serialization, the token denylist and revocation check, Kysely, and the
 * delete-for-me filter (no message is deleted in the bench, so the answers are equal).
 *
 *   JWT_SECRET=… tsx bench/peers/ceiling-history.ts <port> sqlite <file>
 *   JWT_SECRET=… tsx bench/peers/ceiling-history.ts <port> postgres <url> <schema>
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import pg from 'pg';

const [portArg, driver, target, schema] = process.argv.slice(2);
const key = Buffer.from(process.env.JWT_SECRET ?? '', 'utf8');

interface MemberRow {
  join_seq: number | string;
  clear_seq: number | string;
}
type Row = Record<string, unknown>;
interface Store {
  member(conversationId: string, userId: string): Promise<MemberRow | undefined>;
  page(conversationId: string, afterSeq: number, endSeq: number, limit: number): Promise<Row[]>;
}

const PAGE = `SELECT * FROM messages WHERE conversation_id = $1 AND seq > $2 AND seq <= $3
  ORDER BY seq DESC LIMIT $4`;
const MEMBER = `SELECT join_seq, clear_seq FROM conversation_members
  WHERE conversation_id = $1 AND user_id = $2`;

function sqliteStore(file: string): Store {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const page = db.prepare(PAGE.replace(/\$\d/g, '?'));
  const member = db.prepare(MEMBER.replace(/\$\d/g, '?'));
  return {
    member: async (c, u) => member.get(c, u) as MemberRow | undefined,
    page: async (c, after, end, limit) => page.all(c, after, end, limit) as Row[],
  };
}

function postgresStore(url: string, searchPath: string): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    options: `-c search_path=${searchPath}`,
  });
  // Named statements: parsed and planned once per connection.
  return {
    member: async (c, u) =>
      (await pool.query<MemberRow>({ name: 'member', text: MEMBER, values: [c, u] })).rows[0],
    page: async (c, after, end, limit) =>
      (await pool.query<Row>({ name: 'page', text: PAGE, values: [c, after, end, limit] })).rows,
  };
}

const store = driver === 'postgres' ? postgresStore(target!, schema!) : sqliteStore(target!);

/** The user id of a valid HS256 token, or undefined. */
function verify(header: string | undefined): string | undefined {
  if (!header?.startsWith('Bearer ')) return undefined;
  const [head, body, signature] = header.slice(7).split('.');
  if (!head || !body || !signature) return undefined;
  const expected = createHmac('sha256', key).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as {
    sub?: string;
    exp?: number;
  };
  if (!claims.sub || (claims.exp ?? 0) * 1000 < Date.now()) return undefined;
  return claims.sub;
}

function toMessage(row: Row) {
  const message: Row = {
    msgId: row.id,
    conversationId: row.conversation_id,
    chatType: Number(row.chat_type),
    sendId: row.send_id,
    recvId: row.recv_id,
    seq: Number(row.seq),
    sendTime: Number(row.send_time),
    mType: Number(row.m_type),
    content: row.content,
    clientMsgId: row.client_msg_id,
    modSeq: Number(row.mod_seq ?? 0),
  };
  if (row.edited_at != null) message.editedAt = Number(row.edited_at);
  if (row.reactions) message.reactions = JSON.parse(row.reactions as string);
  return message;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') return answer(res, 200, { status: 'ok' });
  if (url.pathname !== '/v1/im/chatlog') return answer(res, 404, { code: 404, msg: 'not found' });
  const userId = verify(req.headers.authorization);
  if (!userId) return answer(res, 401, { code: 100003, msg: 'unauthorized' });
  const conversationId = url.searchParams.get('conversationId') ?? '';
  const endSeq = Number(url.searchParams.get('endSeq') ?? Number.MAX_SAFE_INTEGER);
  const count = Math.min(Number(url.searchParams.get('count') ?? 50), 100);
  void (async () => {
    const member = await store.member(conversationId, userId);
    if (!member) return answer(res, 403, { code: 400301, msg: 'not a participant' });
    const after = Math.max(Number(member.join_seq), Number(member.clear_seq));
    const rows = await store.page(conversationId, after, endSeq, count);
    answer(res, 200, { code: 200, msg: 'ok', data: { list: rows.map(toMessage) } });
  })().catch((err: unknown) => answer(res, 500, { code: 500, msg: String(err) }));
}).listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
