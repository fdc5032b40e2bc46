/**
 * The ceiling: a bare `ws` server with no auth, no storage and no app. It answers
 * pings, holds connections and sends every chat frame it gets to every client (the
 * sender included, which takes its copy as the acknowledgement).
 */
import { WebSocketServer, WebSocket } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.PORT),
  path: '/ws',
  backlog: 4096,
});
wss.on('connection', (socket) => {
  socket.on('message', (raw) => {
    const text = (raw as Buffer).toString('utf8');
    if (text === '{"frameType":1}') return socket.send(text);
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(text);
  });
});
wss.on('listening', () => process.send?.('ready'));
