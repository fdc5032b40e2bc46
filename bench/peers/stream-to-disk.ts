/**
 * The ceiling of bench/files.ts: the least a server can do with an upload and still
 * keep it — stream the request body to a temporary file, fsync it, rename it into
 * place, answer its size. No parsing, no database, no type sniffing, no auth.
 * easy-chat's disk store does the same three file steps, so the gap between the two
 * is what everything else costs.
 *
 *   tsx bench/peers/stream-to-disk.ts <port> <dir>
 */
import { createWriteStream } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const port = Number(process.argv[2]);
const dir = process.argv[3]!;
let next = 0;

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200).end('ok');
    return;
  }
  const id = `${process.pid}-${(next += 1)}`;
  const tmp = join(dir, `${id}.part`);
  void (async () => {
    const out = createWriteStream(tmp);
    await pipeline(req, out);
    const handle = await open(tmp, 'r+');
    await handle.sync();
    await handle.close();
    await rename(tmp, join(dir, id));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 200, msg: 'ok', data: { size: out.bytesWritten } }));
  })().catch((err: unknown) => {
    res.writeHead(500).end(String(err));
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
