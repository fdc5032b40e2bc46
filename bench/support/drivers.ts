/**
 * Wire protocols the load generator speaks, one small driver per system. Each writes
 * and reads raw frames on a `ws` socket (the cheapest client there is, so the figures
 * measure the servers, not the clients). A later switch to the client SDK only needs
 * another driver with the same shape.
 */
import WebSocket from 'ws';

/** Who a socket logs in as: easy-chat and Socket.IO take `token`, XMPP `name` + `password`. */
export interface ClientUser {
  /** Address others send to: easy-chat user id, XMPP bare JID, Socket.IO user name. */
  id: string;
  token?: string;
  password?: string;
}

/** Where a chat message goes. */
export interface Target {
  kind: 'user' | 'group';
  /** easy-chat user or group id, XMPP JID, Socket.IO user or room name. */
  id: string;
}

/** A chat message received: `content` is what was sent, `key` names it uniquely. */
export interface Incoming {
  from: string;
  content: string;
  /** easy-chat conversation and seq (for sync); absent elsewhere. */
  conversationId?: string;
  seq?: number;
  /** The server's clock when it took the message (easy-chat and the ceiling), epoch ms. */
  sendTime?: number;
}

export interface Conn {
  readonly user: ClientUser;
  readonly socket: WebSocket;
  /** Called for each chat message this socket receives (not for answers to its requests). */
  onMessage?: (m: Incoming) => void;
}

export interface Driver {
  readonly name: DriverName;
  /** Opens an authenticated socket that is ready to chat. */
  open(url: string, user: ClientUser): Promise<Conn>;
  /**
   * Sends a chat message; resolves when the server has taken it: easy-chat's answer
   * (stored), Socket.IO's ack, the sender's own copy for an XMPP room or a ws broadcast.
   * Private XMPP messages have no server answer: they resolve once written.
   */
  send(conn: Conn, to: Target, content: string): Promise<void>;
  /** Enters a group where that needs a step of its own (XMPP rooms). */
  join?(conn: Conn, group: string, nick: string): Promise<void>;
  /** Generic request (easy-chat only: conversation.sync and such). */
  request?(conn: Conn, method: string, data: unknown): Promise<any>;
}

export type DriverName = 'easy-chat' | 'xmpp' | 'socket.io' | 'ws';

let nextId = 0;
const newId = () => (nextId++).toString(36);

function failOnClose(socket: WebSocket, reject: (e: Error) => void) {
  socket.once('error', reject);
  socket.once('close', (code, reason) =>
    reject(new Error(`closed ${code} ${reason.toString() || ''}`.trim())),
  );
}

// ---------------------------------------------------------------- easy-chat (docs/websocket.md)

/**
 * A request whose socket closed before its answer came: `code` is the close code
 * (4008: the server cut the client as a slow consumer, docs/websocket.md).
 */
export class SocketClosedError extends Error {
  constructor(readonly code: number) {
    super(`socket closed (${code}) before the answer`);
  }
}

interface Waiter {
  answer: (frame: any) => void;
  fail: (err: Error) => void;
}

interface EasyConn extends Conn {
  pending: Map<string, Waiter>;
  /** The close code, once the socket closed. */
  closeCode?: number;
}

const easyChat: Driver = {
  name: 'easy-chat',
  open(url, user) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      const conn: EasyConn = { user, socket, pending: new Map() };
      socket.on('message', (raw) => {
        const frame = JSON.parse((raw as Buffer).toString('utf8'));
        if (frame.method === 'push') {
          const d = frame.data;
          // Group notices (mType 10: joins of the fixture's members) are not measured chat.
          if (d?.contentType === 0 && d.mType !== 10)
            conn.onMessage?.({
              from: d.sendId,
              content: d.content,
              conversationId: d.conversationId,
              seq: d.seq,
              sendTime: d.sendTime,
            });
          return;
        }
        const key = frame.frameType === 1 ? 'ping' : frame.id;
        const waiter = key === undefined ? undefined : conn.pending.get(key);
        if (waiter) {
          conn.pending.delete(key);
          waiter.answer(frame);
        }
      });
      failOnClose(socket, reject);
      // Requests still waiting when the socket closes get no answer: they fail, so
      // that no caller waits forever (a server's slow-consumer cut closes with 4008).
      socket.on('close', (code) => {
        conn.closeCode = code;
        for (const waiter of conn.pending.values()) waiter.fail(new SocketClosedError(code));
        conn.pending.clear();
      });
      // Frames wait for authentication, so the ping's answer means "logged in".
      socket.once('open', () => {
        conn.pending.set('ping', { answer: () => resolve(conn), fail: reject });
        socket.send('{"frameType":1}');
      });
    });
  },
  async send(conn, to, content) {
    const answer = await easyChat.request!(conn, 'conversation.chat', {
      chatType: to.kind === 'group' ? 1 : 2,
      recvId: to.id,
      // As the SDK does: every send carries its idempotency key.
      clientMsgId: newId(),
      msg: { mType: 0, content },
    });
    if (answer.frameType !== 2) throw new Error(`chat refused: ${JSON.stringify(answer.data)}`);
  },
  request(conn, method, data) {
    const c = conn as EasyConn;
    const id = newId();
    return new Promise((resolve, reject) => {
      if (c.socket.readyState !== WebSocket.OPEN)
        return reject(
          c.closeCode === undefined
            ? new Error('socket not open')
            : new SocketClosedError(c.closeCode),
        );
      c.pending.set(id, { answer: resolve, fail: reject });
      c.socket.send(JSON.stringify({ frameType: 0, id, method, data }));
    });
  },
};

// ---------------------------------------------------------------- XMPP over WebSocket (RFC 7395)

interface XmppConn extends Conn {
  pending: Map<string, (stanza: string) => void>;
  /** Own copies of room messages, by message id. */
  echoes: Map<string, () => void>;
  domain: string;
}

const attr = (stanza: string, name: string) =>
  new RegExp(`\\s${name}=(?:'([^']*)'|"([^"]*)")`).exec(stanza)?.slice(1).find(Boolean);
const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const xmpp: Driver = {
  name: 'xmpp',
  open(url, user) {
    const [local, domain = 'localhost'] = user.id.split('@') as [string, string?];
    const openFrame = `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${domain}" version="1.0"/>`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'xmpp');
      const conn: XmppConn = { user, socket, pending: new Map(), echoes: new Map(), domain };
      let stage: 'auth' | 'bind' | 'ready' = 'auth';
      socket.on('message', (raw) => {
        const s = (raw as Buffer).toString('utf8');
        if (s.startsWith('<message')) {
          const body = /<body>([^<]*)<\/body>/.exec(s)?.[1];
          if (body === undefined) return;
          const from = attr(s, 'from') ?? '';
          if (attr(s, 'type') === 'groupchat') {
            const echo = conn.echoes.get(attr(s, 'id') ?? '');
            if (echo) {
              conn.echoes.delete(attr(s, 'id')!);
              echo();
              return;
            }
          }
          conn.onMessage?.({ from, content: unescapeXml(body) });
          return;
        }
        if (stage === 'ready') {
          const id = attr(s, 'id');
          const waiter = id === undefined ? undefined : conn.pending.get(id);
          if (waiter) {
            conn.pending.delete(id!);
            waiter(s);
          }
          return;
        }
        if (s.startsWith('<stream:features') || s.startsWith('<features')) {
          if (stage === 'auth') {
            const plain = Buffer.from(`\0${local}\0${user.password}`).toString('base64');
            socket.send(
              `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${plain}</auth>`,
            );
          } else {
            socket.send(
              `<iq type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>b</resource></bind></iq>`,
            );
          }
        } else if (s.startsWith('<success')) {
          stage = 'bind';
          socket.send(openFrame);
        } else if (s.startsWith('<failure')) {
          reject(new Error(`XMPP auth failed for ${user.id}: ${s}`));
          socket.terminate();
        } else if (s.startsWith('<iq') && attr(s, 'id') === 'bind') {
          stage = 'ready';
          // Available presence, then a ping whose answer means the session is set up.
          socket.send('<presence/>');
          conn.pending.set('ready', () => resolve(conn));
          socket.send(`<iq type="get" id="ready"><ping xmlns="urn:xmpp:ping"/></iq>`);
        }
      });
      failOnClose(socket, reject);
      socket.once('open', () => socket.send(openFrame));
    });
  },
  send(conn, to, content) {
    const c = conn as XmppConn;
    const id = newId();
    if (to.kind === 'user') {
      c.socket.send(
        `<message to="${to.id}" type="chat" id="${id}"><body>${escapeXml(content)}</body></message>`,
      );
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      c.echoes.set(id, resolve);
      c.socket.send(
        `<message to="${to.id}" type="groupchat" id="${id}"><body>${escapeXml(content)}</body></message>`,
      );
    });
  },
  join(conn, room, nick) {
    const c = conn as XmppConn;
    return new Promise((resolve, reject) => {
      const id = newId();
      c.pending.set(id, (s) =>
        attr(s, 'type') === 'error' ? reject(new Error(`join ${room}: ${s}`)) : resolve(),
      );
      c.socket.send(
        `<presence to="${room}/${nick}" id="${id}"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x></presence>`,
      );
    });
  },
};

// ---------------------------------------------------------------- Socket.IO (Engine.IO 4 over WebSocket)

interface SioConn extends Conn {
  acks: Map<number, () => void>;
}
let nextAck = 0;

const socketIo: Driver = {
  name: 'socket.io',
  open(url, user) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(
        `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`,
      );
      const conn: SioConn = { user, socket, acks: new Map() };
      socket.on('message', (raw) => {
        const s = (raw as Buffer).toString('utf8');
        if (s === '2') return socket.send('3'); // Engine.IO ping → pong
        if (s.startsWith('0')) return socket.send(`40${JSON.stringify({ token: user.token })}`);
        if (s.startsWith('40')) return resolve(conn);
        if (s.startsWith('44')) {
          reject(new Error(`Socket.IO refused ${user.id}: ${s}`));
          return;
        }
        if (s.startsWith('42')) {
          const [event, payload] = JSON.parse(s.slice(2)) as [string, any];
          if (event === 'msg') conn.onMessage?.({ from: payload.from, content: payload.content });
          return;
        }
        if (s.startsWith('43')) {
          const bracket = s.indexOf('[');
          const id = Number(s.slice(2, bracket));
          const ack = conn.acks.get(id);
          if (ack) {
            conn.acks.delete(id);
            ack();
          }
        }
      });
      failOnClose(socket, reject);
    });
  },
  send(conn, to, content) {
    const c = conn as SioConn;
    const id = nextAck++;
    return new Promise((resolve) => {
      c.acks.set(id, resolve);
      c.socket.send(`42${id}${JSON.stringify(['chat', { to: to.id, content }])}`);
    });
  },
};

// ---------------------------------------------------------------- bare ws broadcast (bench/peers/raw-ws-server.ts)

interface RawConn extends Conn {
  echoes: Map<string, () => void>;
  pong?: () => void;
}

const rawWs: Driver = {
  name: 'ws',
  open(url, user) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(
        `${url.replace(/^http/, 'ws')}/ws?user=${encodeURIComponent(user.id)}`,
      );
      const conn: RawConn = { user, socket, echoes: new Map() };
      socket.on('message', (raw) => {
        const s = (raw as Buffer).toString('utf8');
        if (s === '{"frameType":1}') return conn.pong?.();
        const m = JSON.parse(s) as { from: string; id: string; content: string };
        const echo = m.from === user.id ? conn.echoes.get(m.id) : undefined;
        if (echo) {
          conn.echoes.delete(m.id);
          return echo();
        }
        conn.onMessage?.({ from: m.from, content: m.content });
      });
      failOnClose(socket, reject);
      socket.once('open', () => {
        conn.pong = () => resolve(conn);
        socket.send('{"frameType":1}');
      });
    });
  },
  send(conn, to, content) {
    const c = conn as RawConn;
    const id = newId();
    return new Promise((resolve) => {
      c.echoes.set(id, resolve);
      // A private message names its recipient; a group message goes to everyone.
      const frame =
        to.kind === 'user'
          ? { from: c.user.id, to: to.id, id, content }
          : { from: c.user.id, id, content };
      c.socket.send(JSON.stringify(frame));
    });
  },
};

export const drivers: Record<DriverName, Driver> = {
  'easy-chat': easyChat,
  xmpp,
  'socket.io': socketIo,
  ws: rawWs,
};
