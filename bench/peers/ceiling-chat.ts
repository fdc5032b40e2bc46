/**
 * The ceiling of bench/cpu-per-message.ts: the least a chat server can do per private
 * message and keep easy-chat's guarantees (DESIGN.md §2) — on a bare `ws` server with
 * prepared better-sqlite3 statements and group commit at `synchronous = FULL`:
 *
 * - persisted before the answer: the batch's transaction commits (one fsync) before any
 *   sender of the batch is answered;
 * - dense seq per conversation: the conversation row's max_seq is bumped in the same
 *   transaction;
 * - idempotent send: a unique index on (send_id, client_msg_id) (a retry answers the
 *   stored message);
 * - the event in the same transaction: one outbox row per message;
 * - then the sender's answer and the recipient's push, one frame each.
 *
 * It speaks just enough of easy-chat's frames (docs/websocket.md) for the bench's
 * easy-chat driver: the token is the user id, ping is answered, `conversation.chat` is
 * answered with frameType 2, the recipient gets a `push` with contentType 0. No JWT, no
 * friendship check, no validation library: everything easy-chat does beyond this is
 * what the ratio measures.
 *
 *   tsx bench/peers/ceiling-chat.ts <port> <sqlite file>
 */
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2]);
const file = process.argv[3]!;

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`
  CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, max_seq INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, msg_id TEXT NOT NULL,
    send_id TEXT NOT NULL, recv_id TEXT NOT NULL, content TEXT NOT NULL,
    client_msg_id TEXT, send_time INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (send_id, client_msg_id);
  CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
`);
const nextSeq = db.prepare(
  `INSERT INTO conversations (id, max_seq) VALUES (?, 1)
   ON CONFLICT (id) DO UPDATE SET max_seq = max_seq + 1 RETURNING max_seq`,
);
const insertMessage = db.prepare(
  `INSERT INTO messages (conversation_id, seq, msg_id, send_id, recv_id, content, client_msg_id, send_time)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
);
const insertOutbox = db.prepare('INSERT INTO outbox (payload) VALUES (?)');
const begin = db.prepare('BEGIN');
const commit = db.prepare('COMMIT');

interface Pending {
  socket: WebSocket;
  frameId: string;
  sendId: string;
  recvId: string;
  content: string;
  clientMsgId: string;
}

const sockets = new Map<string, Set<WebSocket>>();
let queue: Pending[] = [];
let scheduled = false;
let counter = 0;

/** One transaction (one fsync) for every message that arrived since the last one. */
function flush(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  const stored: Array<{ p: Pending; message: Record<string, unknown> }> = [];
  begin.run();
  for (const p of batch) {
    const conversationId =
      p.sendId < p.recvId ? `${p.sendId}_${p.recvId}` : `${p.recvId}_${p.sendId}`;
    const { max_seq: seq } = nextSeq.get(conversationId) as { max_seq: number };
    const msgId = `${process.pid.toString(36)}${(counter += 1).toString(36)}`;
    const sendTime = Date.now();
    insertMessage.run(
      conversationId,
      seq,
      msgId,
      p.sendId,
      p.recvId,
      p.content,
      p.clientMsgId,
      sendTime,
    );
    const message = {
      msgId,
      conversationId,
      chatType: 2,
      sendId: p.sendId,
      recvId: p.recvId,
      seq,
      sendTime,
      mType: 0,
      content: p.content,
      clientMsgId: p.clientMsgId,
    };
    insertOutbox.run(JSON.stringify(message));
    stored.push({ p, message });
  }
  commit.run();
  for (const { p, message } of stored) {
    p.socket.send(
      JSON.stringify({ frameType: 2, id: p.frameId, method: 'conversation.chat', data: message }),
    );
    const push = JSON.stringify({
      frameType: 0,
      id: message.msgId,
      method: 'push',
      formId: p.sendId,
      data: { ...message, contentType: 0 },
    });
    for (const to of sockets.get(p.recvId) ?? []) to.send(push);
  }
}

const http = createServer((_req, res) => res.writeHead(200).end('ok'));
const wss = new WebSocketServer({ server: http, path: '/ws' });
wss.on('connection', (socket, req) => {
  const userId = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  let own = sockets.get(userId);
  if (!own) sockets.set(userId, (own = new Set()));
  own.add(socket);
  socket.on('close', () => own.delete(socket));
  socket.on('message', (raw) => {
    const frame = JSON.parse((raw as Buffer).toString('utf8')) as {
      frameType: number;
      id?: string;
      method?: string;
      data?: { recvId: string; clientMsgId?: string; msg: { content: string } };
    };
    if (frame.frameType === 1) {
      socket.send('{"frameType":1}');
      return;
    }
    if (frame.method !== 'conversation.chat' || !frame.data) return;
    queue.push({
      socket,
      frameId: frame.id ?? '',
      sendId: userId,
      recvId: frame.data.recvId,
      content: frame.data.msg.content,
      clientMsgId: frame.data.clientMsgId ?? `${userId}-${frame.id}`,
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
});
http.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  http.close(() => {
    db.close();
    process.exit(0);
  });
});
