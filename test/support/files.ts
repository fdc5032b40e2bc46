import { request as httpRequest } from 'node:http';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { RegisteredUser } from './factories.js';

export interface UploadAnswer {
  status: number;
  body: { code: number; msg: string; data: any };
}

/** POST /v1/files with one multipart part `field` (default "file") over a real socket. */
export async function uploadFile(
  user: Pick<RegisteredUser, 'client'> | { client: { baseUrl: string; token?: string } },
  bytes: Buffer,
  name = 'file.bin',
  options: { field?: string; token?: string | null; type?: string } = {},
): Promise<UploadAnswer> {
  const form = new FormData();
  form.append(
    options.field ?? 'file',
    new Blob([bytes], { type: options.type ?? 'application/octet-stream' }),
    name,
  );
  const token = options.token === undefined ? user.client.token : options.token;
  const res = await fetch(new URL('/v1/files', user.client.baseUrl), {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return { status: res.status, body: (await res.json()) as UploadAnswer['body'] };
}

/** A raw HTTP request (for bodies fetch will not send: lying lengths, cut-off forms). */
export function rawRequest(
  baseUrl: string,
  options: {
    method: string;
    path: string;
    headers: Record<string, string | number>;
    body?: Buffer;
    end?: boolean;
  },
): Promise<{ status: number; body: any }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text });
          }
        });
      },
    );
    req.on('error', reject);
    if (options.body) req.write(options.body);
    if (options.end !== false) req.end();
  });
}

/** A multipart body by hand, with its boundary. */
export function multipartBody(
  parts: Array<{ field: string; filename?: string; bytes: Buffer }>,
  close = true,
): {
  body: Buffer;
  contentType: string;
} {
  const boundary = `----easychat${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.field}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      part.bytes,
      Buffer.from('\r\n'),
    );
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A real PNG of the given size (noise, so it does not compress to nothing). */
export async function makePng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();
}

/** A JPEG stored sideways with EXIF orientation 6 (display: turned 90°) and GPS-like EXIF. */
export async function makeRotatedJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: 'secret-camera-owner' } } })
    .toBuffer();
}

/**
 * A PNG whose header claims 30,000 × 30,000 pixels (900 megapixels, 2.7 GB decoded)
 * in a few dozen bytes: the decompression bomb the server must refuse unread.
 */
export function pngBomb(width = 30_000, height = 30_000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const idat = zlib.deflateSync(Buffer.alloc(1024));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small but well-formed PDF. */
export function makePdf(): Buffer {
  return Buffer.from(
    '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
  );
}
