/**
 * The per-socket part of a group push alone: the gateway's `ConnectionRegistry.deliver`
 * (easy-chat's loop over a group's members: their connections, the checks, one frame
 * written to each) against the bare relay's loop (`bench/peers/raw-ws-server.ts`:
 * `client.send(text)` for every client), over the same sockets, in one process,
 * alternating block by block. No store, no audience, no event: what is left of the group
 * ratio once the per-message work is taken out.
 *
 *   npx tsx bench/deliver-loop.ts    BENCH_DELIVER_SOCKETS=1000 BENCH_DELIVER_MESSAGES=50
 *                                    BENCH_DELIVER_ROUNDS=7
 *                                    BENCH_REF_DIR=<checkout>: its registry and Connection
 *                                    (from its src/) on sockets of their own, beside
 *
 * The clients are one child process reading every socket. Between two messages the loop
 * waits until every socket has handed its bytes to the kernel and a millisecond more, as
 * a sender waiting for its answer would. CPU is the main thread's (schedstat, to the ns):
 * the writes' system calls included, the clients' reading not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { envNumber, log, main, sleep } from './support/run.js';
import { roundOrder } from './support/round-order.js';

const sockets = envNumber('BENCH_DELIVER_SOCKETS', 1000);
const messages = envNumber('BENCH_DELIVER_MESSAGES', 50);
const rounds = envNumber('BENCH_DELIVER_ROUNDS', 7);
const limits = {
  idleTimeoutMs: 600_000,
  sendHighWaterBytes: 1 << 20,
  framesPerSec: 10,
  frameBurst: 10,
};

/** The main thread's CPU time, µs (the scheduler's, to the ns). */
function threadCpuUs(): number {
  return (
    Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000
  );
}

/** A group push as easy-chat frames it (a message of 40 characters to a group). */
function pushText(n: number): string {
  return JSON.stringify({
    frameType: 4,
    id: `01JEXAMPLE${String(n).padStart(16, '0')}`,
    method: 'push',
    data: {
      conversationId: 'sg_01JEXAMPLEGROUP0000000000',
      msgId: `01JEXAMPLEMSG${String(n).padStart(13, '0')}`,
      clientMsgId: `0193a1b2-c3d4-7e5f-8a9b-${String(n).padStart(12, '0')}`,
      seq: n,
      sendId: '01JEXAMPLESENDER000000000',
      recvId: '01JEXAMPLEGROUP0000000000',
      chatType: 1,
      mType: 0,
      contentType: 0,
      content: `G${n}|${Date.now()} a message of forty characters`,
      sendTime: Date.now(),
    },
  });
}

/** The reading side: a child process with `count` clients, reading and dropping every frame. */
const CLIENT_SOURCE = `
const { WebSocket } = require(process.argv[1]);
const [url, count] = [process.argv[2], Number(process.argv[3])];
let open = 0;
for (let i = 0; i < count; i += 1) {
  const ws = new WebSocket(url + '?i=' + i, { perMessageDeflate: false });
  ws.on('open', () => { open += 1; if (open === count) process.send('open'); });
  ws.on('message', () => undefined);
  ws.on('error', (err) => { console.error(err.message); process.exit(1); });
}
`;

interface Registry {
  add(connection: unknown): void;
  deliver(userIds: Iterable<string>, text: string, exceptConnectionId?: string): number;
}
type ConnectionClass = new (...args: unknown[]) => { id: string; userId: string };

/** A server of `count` sockets, each wrapped as the gateway wraps it by `checkout`'s classes. */
async function serve(checkout: string, count: number) {
  const { Connection } = (await import(join(checkout, 'src/gateway/connection.ts'))) as {
    Connection: ConnectionClass;
  };
  const { ConnectionRegistry } = (await import(
    join(checkout, 'src/gateway/connection-registry.ts')
  )) as { ConnectionRegistry: new (max: number) => Registry };
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => server.once('listening', resolve));
  const registry = new ConnectionRegistry(4);
  const users: string[] = [];
  const wires: Socket[] = [];
  const connections: Array<{ id: string }> = [];
  server.on('connection', (socket, request) => {
    const wire = request.socket;
    const userId = `01JEXAMPLEUSER${String(users.length).padStart(12, '0')}`;
    const connection = new Connection(socket, userId, 'jti', limits, undefined, undefined, wire);
    registry.add(connection);
    users.push(userId);
    wires.push(wire);
    connections.push(connection);
  });
  const { port } = server.address() as AddressInfo;
  const wsModule = createRequire(import.meta.url).resolve('ws');
  const child = spawn(
    process.execPath,
    ['-e', CLIENT_SOURCE, wsModule, `ws://127.0.0.1:${port}/`, String(count)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`clients exited with ${code}`)));
  });
  return { server, registry, users, wires, connections, child };
}

main(async () => {
  const here = join(fileURLToPath(import.meta.url), '../..');
  const checkouts = [{ label: 'easy-chat', dir: here }];
  if (process.env.BENCH_REF_DIR)
    checkouts.unshift({
      label: process.env.BENCH_REF_LABEL ?? 'reference',
      dir: process.env.BENCH_REF_DIR,
    });
  const systems: Array<{
    label: string;
    push: (text: string) => void;
    wires: Socket[];
    stop: () => Promise<void>;
  }> = [];
  for (const { label, dir } of checkouts) {
    const s = await serve(dir, sockets);
    await waitFor(() => s.users.length === sockets);
    // The sender's own connection is left out, as a group push leaves it out.
    const except = s.connections[0]!.id;
    systems.push({
      label,
      push: (text) => s.registry.deliver(s.users, text, except),
      wires: s.wires,
      stop: () => stop(s.server, s.child),
    });
    if (label === 'easy-chat') {
      // The bare relay's loop over the same sockets (ws frames and writes each).
      systems.push({
        label: 'bare ws loop',
        push: (text) => {
          for (const client of s.server.clients)
            if (client.readyState === WebSocket.OPEN) client.send(text);
        },
        wires: s.wires,
        stop: async () => undefined,
      });
    }
  }
  log(`deliver-loop: ${sockets} sockets, ${messages} messages a round, ${rounds} rounds`);
  const results = new Map<string, number[]>(systems.map((s) => [s.label, []]));
  let n = 0;
  for (let r = 0; r < rounds; r += 1) {
    const order = roundOrder(systems, r);
    for (const system of order) {
      let cpu = 0;
      for (let m = 0; m < messages; m += 1) {
        const text = pushText((n += 1));
        const before = threadCpuUs();
        system.push(text);
        await waitFor(() => system.wires.every((w) => w.writableLength === 0), 0);
        cpu += threadCpuUs() - before;
        await sleep(1);
      }
      results.get(system.label)!.push(cpu / (messages * (sockets - 1)));
    }
    if (r === 0) log('round 1 (warm-up) left out of the medians');
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ws = results.get('bare ws loop')!.slice(1);
  for (const [label, all] of results) {
    const xs = all.slice(1);
    const ratios = xs.map((x, i) => x / ws[i]!);
    log(
      `  ${label.padEnd(14)} ${median(xs).toFixed(3)} CPU-µs per socket (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}), ÷ bare ws loop ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
    );
  }
  if (checkouts.length > 1) {
    const ref = results.get(checkouts[0]!.label)!.slice(1);
    const own = results.get('easy-chat')!.slice(1);
    const ratios = own.map((x, i) => x / ref[i]!);
    log(
      `  easy-chat ÷ ${checkouts[0]!.label}: ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
    );
  }
  for (const s of systems) await s.stop();
});

async function waitFor(check: () => boolean, ms = 10): Promise<void> {
  for (let i = 0; i < 100_000 && !check(); i += 1)
    await (ms > 0 ? sleep(ms) : new Promise(setImmediate));
}

async function stop(server: WebSocketServer, child: ChildProcess) {
  child.kill();
  for (const client of server.clients) client.terminate();
  await new Promise((resolve) => server.close(resolve));
}
