import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.js';

async function text(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * What every BlobStore does. Run by blob-store.test.ts for the disk store and for
 * S3 against a loopback S3 server.
 */
export function blobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('stores a stream and reads it back whole and by range', async () => {
      const info = await store.put(
        'f/alpha',
        Readable.from([Buffer.from('hello '), Buffer.from('world')]),
        {
          contentType: 'text/plain',
        },
      );
      expect(info.size).toBe(11);
      expect(await store.stat('f/alpha')).toEqual({ size: 11 });
      const whole = await store.get('f/alpha');
      expect(whole?.size).toBe(11);
      expect(await text(whole!.body)).toBe('hello world');
      const part = await store.get('f/alpha', { start: 6, end: 10 });
      expect(part?.size).toBe(11);
      expect(await text(part!.body)).toBe('world');
    });

    it('replaces a blob stored under the same key', async () => {
      await store.put('f/beta', Readable.from([Buffer.from('one')]), { contentType: 'text/plain' });
      await store.put('f/beta', Readable.from([Buffer.from('second')]), {
        contentType: 'text/plain',
      });
      expect(await text((await store.get('f/beta'))!.body)).toBe('second');
    });

    it('answers undefined for a missing blob and deletes idempotently', async () => {
      expect(await store.get('f/missing')).toBeUndefined();
      expect(await store.stat('f/missing')).toBeUndefined();
      await store.put('f/gamma', Readable.from([Buffer.from('x')]), { contentType: 'text/plain' });
      await store.delete('f/gamma');
      await store.delete('f/gamma');
      expect(await store.stat('f/gamma')).toBeUndefined();
    });

    it('leaves nothing behind when the stream fails', async () => {
      const failing = new Readable({
        read() {
          this.push(Buffer.from('partial'));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(store.put('f/delta', failing, { contentType: 'text/plain' })).rejects.toThrow(
        'client went away',
      );
      expect(await store.stat('f/delta')).toBeUndefined();
    });

    it('refuses keys that could leave the store', async () => {
      for (const key of ['../escape', 'f/../../x', '/abs', '']) {
        await expect(store.stat(key)).rejects.toThrow(/invalid blob key|escapes/);
      }
    });

    it('pings', async () => {
      await store.ping();
    });
  });
}
