import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A notification provider (SMS, push) on loopback, standing in for the outside service. */
export const SECRET = 'webhook-secret-0123456789';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Call {
  body: Record<string, unknown>;
  signatureOk: boolean;
  delivery: string | undefined;
}

/** A provider on loopback: answers from a script of statuses (then 200), checks the HMAC. */
export async function fakeProvider(script: Array<number | 'hang'>) {
  const calls: Call[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const timestamp = String(req.headers['x-easychat-timestamp']);
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${raw}`).digest('hex')}`;
      calls.push({
        body: JSON.parse(raw) as Record<string, unknown>,
        signatureOk: req.headers['x-easychat-signature'] === expected,
        delivery: req.headers['x-easychat-delivery'] as string | undefined,
      });
      const step = script[calls.length - 1] ?? 200;
      if (step === 'hang') {
        setTimeout(() => res.writeHead(200).end('{}'), 1_000).unref();
        return;
      }
      res.writeHead(step, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const webhook = (url: string, maxAttempts = 3) => ({
  url,
  secret: SECRET,
  timeoutMs: 200,
  maxAttempts,
});
