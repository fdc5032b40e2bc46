/**
 * What a Node developer would write instead: a Socket.IO chat server scaled with the
 * Redis adapter (every emit goes through Redis pub/sub so several processes can share
 * rooms). No storage. A socket authenticates with `auth.token` = `name|room,room`:
 * it joins its own room `u:name` (its address) and each group room named.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  // Long enough that idle sockets stay while the benchmark measures them.
  pingInterval: 25_000,
  pingTimeout: 60_000,
  adapter: createAdapter(pub, sub, { key: process.env.SIO_KEY ?? 'bench-socket.io' }),
});

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: string }).token;
  if (!token) return next(new Error('token missing'));
  const [name, rooms = ''] = token.split('|') as [string, string?];
  socket.data.name = name;
  void socket.join([`u:${name}`, ...rooms.split(',').filter(Boolean)]);
  next();
});

io.on('connection', (socket) => {
  socket.on('chat', (m: { to: string; content: string }, ack?: () => void) => {
    io.to(m.to).emit('msg', { from: `u:${socket.data.name as string}`, content: m.content });
    ack?.();
  });
});

http.listen({ host: '127.0.0.1', port: Number(process.env.PORT), backlog: 4096 }, () =>
  process.send?.('ready'),
);
const stop = () => {
  void io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
