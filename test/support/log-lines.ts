import { Writable } from 'node:stream';

/** A log destination that appends each line written to it to `lines` (a test's log). */
export function logLines(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
}
