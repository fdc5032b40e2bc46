/**
 * The baseline: a bare `ws` server that accepts connections, answers pings and
 * holds them. No auth, no storage, no app: the floor for this runtime.
 */
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.env.PORT), path: '/ws' });
wss.on('connection', (socket) => {
  socket.on('message', (raw) => {
    if ((raw as Buffer).toString('utf8') === '{"frameType":1}') socket.send('{"frameType":1}');
  });
});
wss.on('listening', () => process.send?.('ready'));
