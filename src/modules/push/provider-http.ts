import {
  request as httpRequest,
  type Agent as HttpAgent,
  type IncomingHttpHeaders,
} from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** No answer in time: the request may or may not have been taken, so it is not retried here. */
export class RequestTimeout extends Error {
  override name = 'RequestTimeout';
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** The whole exchange, connection included; then the request is abandoned. */
  timeoutMs: number;
  agent?: HttpAgent | HttpsAgent;
}

/**
 * One HTTP(S) POST read to the end. `http:` is allowed for on-premise relays
 * and tests; the providers themselves are `https:`.
 */
export function post(url: URL, options: PostOptions): Promise<HttpAnswer> {
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
      ...(options.agent ? { agent: options.agent } : {}),
    });
    const timer = setTimeout(() => {
      req.destroy(new RequestTimeout(`${url.origin}: no answer within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(options.body);
  });
}
