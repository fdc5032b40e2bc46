import { Transform, type TransformCallback } from 'node:stream';
import { SNIFF_BYTES } from './file-type-policy.js';

/**
 * Passes an upload through unchanged while counting it and keeping its first bytes for the type sniffer, so the bytes are read only once
 * and never held whole in memory.
 */
export class UploadMeter extends Transform {
  bytes = 0;
  private readonly headChunks: Buffer[] = [];
  private headBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.headBytes < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headBytes);
      this.headChunks.push(part);
      this.headBytes += part.length;
    }
    done(null, chunk);
  }

  /** The first bytes (up to SNIFF_BYTES) seen. */
  head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}
