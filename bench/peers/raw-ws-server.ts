/**
 * The ceiling: a bare `ws` server with no auth, no storage and no app. It answers
 * pings and holds connections. A chat frame naming a recipient (`to`, private chat)
 * goes to that user's socket and back to the sender as the acknowledgement; any other
 * chat frame goes to every client (a group; the sender takes its copy as the
 * acknowledgement). Users say who they are in the URL (`/ws?user=ID`), unchecked.
 */
import { WebSocketServer, WebSocket } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.PORT),
  path: '/ws',
  backlog: 4096,
});
const byUser = new Map<string, WebSocket>();
wss.on('connection', (socket, request) => {
  const user = new URL(request.url ?? '/', 'http://x').searchParams.get('user');
  if (user) {
    byUser.set(user, socket);
    socket.on('close', () => byUser.get(user) === socket && byUser.delete(user));
  }
  socket.on('message', (raw) => {
    const text = (raw as Buffer).toString('utf8');
    if (text === '{"frameType":1}') return socket.send(text);
    const to = text.includes('"to":') ? (JSON.parse(text) as { to?: string }).to : undefined;
    if (to !== undefined) {
      const peer = byUser.get(to);
      if (peer?.readyState === WebSocket.OPEN) peer.send(text);
      return socket.send(text);
    }
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(text);
  });
});
wss.on('listening', () => process.send?.('ready'));
