/**
 * The ceiling of bench/cpu-per-message.ts: the least a chat server can do per private
 * message and keep easy-chat's guarantees (DESIGN.md §2) — on a bare `ws` server with
 * prepared better-sqlite3 statements and group commit at `synchronous = FULL`, or on
 * PostgreSQL with the store of ceiling-chat-pg.ts (prepared, multi-row, pipelined):
 *
 * - persisted before the answer: the batch's transaction commits (one fsync) before any
 *   sender of the batch is answered;
 * - dense seq per conversation: the conversation row's max_seq is bumped in the same
 *   transaction;
 * - idempotent send: a unique index on (send_id, client_msg_id) (a retry answers the
 *   stored message);
 * - the event in the same transaction: one outbox row per message;
 * - then the sender's answer and the recipient's push, one frame each;
 * - a reply (a message whose conversation's last message was the peer's: sending moves
 *   the sender's read position past it) also pushes the peer a read receipt, as
 *   easy-chat does (bench:cpu's BENCH_REPLY). Who wrote each conversation's last
 *   message is kept in memory: one process holds every conversation here.
 *
 * It speaks just enough of easy-chat's frames (docs/websocket.md) for the bench's
 * easy-chat driver: the token is the user id, ping is answered, `conversation.chat` is
 * answered with frameType 2, the recipient gets a `push` with contentType 0. No JWT, no
 * friendship check, no validation library: everything easy-chat does beyond this is
 * what the ratio measures.
 *
 *   tsx bench/peers/ceiling-chat.ts <port> <sqlite file | postgres://… URL>
 */
import { createServer } from 'node:http';
import Database from 'better-sqlite3';
import { WebSocketServer, type WebSocket } from 'ws';
import { ceilingSqlite } from './ceiling-sqlite.js';

/** A message as stored and pushed, before its seq is taken. */
export interface Unstored {
  msgId: string;
  conversationId: string;
  chatType: 2;
  sendId: string;
  recvId: string;
  sendTime: number;
  mType: 0;
  content: string;
  clientMsgId: string;
}
export type Stored = Unstored & { seq: number };

/** Stores a batch in one transaction: seqs taken, messages and outbox rows written, committed. */
export interface CeilingStore {
  store(batch: Unstored[]): Stored[] | Promise<Stored[]>;
  close(): Promise<void>;
}

function openSqliteStore(file: string): CeilingStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const storeOne = ceilingSqlite(db);
  /** One transaction (one fsync) for the batch. */
  const storeAll = db.transaction((batch: Unstored[]) => batch.map(storeOne));
  return {
    store: (batch) => storeAll(batch),
    close: async () => {
      db.close();
    },
  };
}

interface Pending {
  socket: WebSocket;
  frameId: string;
  message: Unstored;
}

const port = Number(process.argv[2]);
const target = process.argv[3]!;
const store = /^postgres(ql)?:/.test(target)
  ? await (await import('./ceiling-chat-pg.js')).openPostgresStore(target)
  : openSqliteStore(target);

const sockets = new Map<string, Set<WebSocket>>();
/** Who wrote each conversation's last message (the reply's test). */
const lastSender = new Map<string, string>();
let queue: Pending[] = [];
let flushing = false;
let counter = 0;

/**
 * One transaction for every message that arrived since the last one began (group
 * commit); the senders are answered and the recipients pushed once it has committed.
 */
async function flush(): Promise<void> {
  while (queue.length > 0) {
    const batch = queue;
    queue = [];
    const stored = await store.store(batch.map((p) => p.message));
    stored.forEach((message, i) => {
      const p = batch[i]!;
      p.socket.send(
        JSON.stringify({ frameType: 2, id: p.frameId, method: 'conversation.chat', data: message }),
      );
      const push = JSON.stringify({
        frameType: 0,
        id: message.msgId,
        method: 'push',
        formId: message.sendId,
        data: { ...message, contentType: 0 },
      });
      for (const to of sockets.get(message.recvId) ?? []) to.send(push);
      // A reply read the peer's messages before it: the peer hears it, and so do the
      // sender's other devices (not the one that sent).
      const replied = lastSender.get(message.conversationId) === message.recvId;
      lastSender.set(message.conversationId, message.sendId);
      if (!replied) return;
      const receipt = JSON.stringify({
        frameType: 0,
        method: 'push',
        formId: message.sendId,
        data: {
          conversationId: message.conversationId,
          chatType: message.chatType,
          sendId: message.sendId,
          recvId: message.recvId,
          readSeq: message.seq,
          sendTime: Date.now(),
          contentType: 1,
        },
      });
      for (const to of sockets.get(message.recvId) ?? []) to.send(receipt);
      for (const own of sockets.get(message.sendId) ?? []) if (own !== p.socket) own.send(receipt);
    });
  }
  flushing = false;
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
    const recvId = frame.data.recvId;
    queue.push({
      socket,
      frameId: frame.id ?? '',
      message: {
        msgId: `${process.pid.toString(36)}${(counter += 1).toString(36)}`,
        conversationId: userId < recvId ? `${userId}_${recvId}` : `${recvId}_${userId}`,
        chatType: 2,
        sendId: userId,
        recvId,
        sendTime: Date.now(),
        mType: 0,
        content: frame.data.msg.content,
        clientMsgId: frame.data.clientMsgId ?? `${userId}-${frame.id}`,
      },
    });
    if (!flushing) {
      flushing = true;
      // Let the messages that arrived in this turn of the event loop join the batch.
      setImmediate(() => void flush());
    }
  });
});
http.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  http.close(() => {
    void store.close().then(() => process.exit(0));
  });
});
