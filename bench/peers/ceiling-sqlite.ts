import type Database from 'better-sqlite3';
import type { Stored, Unstored } from './ceiling-chat.js';

/**
 * The SQLite ceiling's schema and its store of one message (bench/peers/ceiling-chat.ts),
 * shared with bench/sqlite-pages.ts, which counts the pages they write.
 */
export function ceilingSqlite(db: Database.Database) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, max_seq INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS messages (
      conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, msg_id TEXT NOT NULL,
      send_id TEXT NOT NULL, recv_id TEXT NOT NULL, content TEXT NOT NULL,
      client_msg_id TEXT, send_time INTEGER NOT NULL,
      PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;
    -- Client id first, as easy-chat's SQLite schema since migration 0017: time-ordered
    -- client ids then land at the index's right edge (docs/performance-log.md, pages per message).
    CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (client_msg_id, send_id);
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
  /** Stores one message inside the caller's transaction: its seq, the row, the outbox row. */
  return (m: Unstored): Stored => {
    const { max_seq: seq } = nextSeq.get(m.conversationId) as { max_seq: number };
    const stored = { ...m, seq };
    insertMessage.run(
      m.conversationId,
      seq,
      m.msgId,
      m.sendId,
      m.recvId,
      m.content,
      m.clientMsgId,
      m.sendTime,
    );
    insertOutbox.run(JSON.stringify(stored));
    return stored;
  };
}
