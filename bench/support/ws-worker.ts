/**
 * A load-generator process: holds many WebSocket connections and runs commands
 * sent by the benchmark over IPC, so the clients never share an event loop with
 * the server or the orchestrating script. Raw `ws` frames keep its own cost low.
 */
import WebSocket from 'ws';

interface Conn {
  socket: WebSocket;
  pending: Map<string, (frame: any) => void>;
}

const conns: Conn[] = [];
let nextId = 0;
const now = () => performance.timeOrigin + performance.now();

/** Chat pushes received, by conversation and seq → arrival time (epoch ms, fractional). */
const arrivals = new Map<string, number>();
let pushCount = 0;
const deliveryLatencies: number[] = [];

function open(url: string, token: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const conn: Conn = { socket, pending: new Map() };
    socket.on('message', (raw) => {
      const at = now();
      const frame = JSON.parse((raw as Buffer).toString('utf8'));
      if (frame.method === 'push' && frame.data?.contentType === 0) {
        pushCount += 1;
        const key = `${frame.data.conversationId}:${frame.data.seq}`;
        arrivals.set(key, Math.max(arrivals.get(key) ?? 0, at));
        const sentAt = Number(/^t(\d+(\.\d+)?)/.exec(frame.data.content)?.[1]);
        if (sentAt) deliveryLatencies.push(at - sentAt);
        return;
      }
      const waiter =
        frame.id !== undefined
          ? conn.pending.get(frame.id)
          : frame.frameType === 1
            ? conn.pending.get('ping')
            : undefined;
      if (waiter) {
        conn.pending.delete(frame.id ?? 'ping');
        waiter(frame);
      }
    });
    socket.once('open', () => {
      conn.pending.set('ping', () => resolve(conn));
      socket.send('{"frameType":1}');
    });
    socket.once('error', reject);
  });
}

function request(conn: Conn, method: string, data: unknown): Promise<any> {
  const id = String(nextId++);
  return new Promise((resolve) => {
    conn.pending.set(id, resolve);
    conn.socket.send(JSON.stringify({ frameType: 0, id, method, data }));
  });
}

async function connectAll(url: string, tokens: string[], concurrency: number) {
  let failed = 0;
  for (let i = 0; i < tokens.length; i += concurrency) {
    const batch = await Promise.allSettled(
      tokens.slice(i, i + concurrency).map((t) => open(url, t)),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') conns.push(r.value);
      else failed += 1;
    }
  }
  return { connected: conns.length, failed };
}

/** Closed loop: each pair's sender keeps one message in flight for `durationMs`. */
async function runPairs(pairs: Array<{ sender: number; recvId: string }>, durationMs: number) {
  deliveryLatencies.length = 0;
  const ackLatencies: number[] = [];
  let errors = 0;
  const deadline = now() + durationMs;
  await Promise.all(
    pairs.map(async ({ sender, recvId }) => {
      const conn = conns[sender]!;
      while (now() < deadline) {
        const t = now();
        const answer = await request(conn, 'conversation.chat', {
          chatType: 2,
          recvId,
          msg: { mType: 0, content: `t${t}` },
        });
        if (answer.frameType === 2) ackLatencies.push(now() - t);
        else errors += 1;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 500)); // let the last pushes land
  return { ackLatencies, deliveryLatencies: [...deliveryLatencies], errors };
}

async function sendSequential(sender: number, data: Record<string, unknown>, count: number) {
  const sentAt: Record<number, number> = {};
  for (let i = 0; i < count; i += 1) {
    const t = now();
    const answer = await request(conns[sender]!, 'conversation.chat', {
      ...data,
      msg: { mType: 0, content: `t${t}` },
    });
    sentAt[answer.data.seq] = t;
  }
  return { sentAt };
}

process.on('message', (message: any) => {
  const reply = (result: unknown) => process.send!({ id: message.id, result });
  const run = async () => {
    switch (message.cmd) {
      case 'connect':
        return connectAll(message.url, message.tokens, message.concurrency ?? 200);
      case 'pairs':
        return runPairs(message.pairs, message.durationMs);
      case 'send':
        return sendSequential(message.sender, message.data, message.count);
      case 'arrivals':
        return { pushCount, arrivals: Object.fromEntries(arrivals) };
      case 'reset':
        arrivals.clear();
        pushCount = 0;
        deliveryLatencies.length = 0;
        return {};
      case 'close':
        for (const c of conns) c.socket.terminate();
        setTimeout(() => process.exit(0), 50);
        return {};
      default:
        throw new Error(`unknown command ${message.cmd}`);
    }
  };
  run().then(reply, (err: unknown) => process.send!({ id: message.id, error: String(err) }));
});
