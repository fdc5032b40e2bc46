import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogSink } from './log-sink.js';

/** An output whose reader never takes anything: every write stays pending. */
function stalled(): Writable {
  return new Writable({ write: () => undefined });
}

describe('LogSink', () => {
  it('writes lines through while the output keeps up', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const sink = new LogSink(out);
    sink.write('a\n');
    sink.write('b\n');
    expect(lines).toEqual(['a\n', 'b\n']);
    expect(sink.droppedLines('closed') + sink.droppedLines('backlog')).toBe(0);
  });

  it('drops and counts lines once a stalled reader holds more than the backlog', () => {
    const sink = new LogSink(stalled(), 100);
    for (let i = 0; i < 10; i += 1) sink.write(`${'x'.repeat(39)}\n`);
    // 40 bytes a line: written while at most 100 bytes wait (0, 40, 80), then dropped.
    expect(sink.droppedLines('backlog')).toBe(7);
  });

  it('drops and counts lines after the output failed (EPIPE), without throwing', async () => {
    const out = stalled();
    const sink = new LogSink(out);
    out.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await new Promise((r) => setImmediate(r));
    sink.write('lost\n');
    sink.write('lost too\n');
    expect(sink.droppedLines('closed')).toBe(2);
  });
});
