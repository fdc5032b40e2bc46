import type { Writable } from 'node:stream';

/** Unwritten log output kept at most; past it, lines are dropped (a reader that stalled). */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;

export type DropReason = 'closed' | 'backlog';

/**
 * Where log lines go (stdout by default). Logging must never stop the server: a
 * pipe whose reader went away (EPIPE) or a reader that stopped reading would
 * otherwise block shutdown, or requests, forever (pino's default destination
 * retries a failed write every 100 ms without end). Lines that cannot be written
 * are dropped and counted (`easychat_log_lines_dropped_total`).
 *
 * Writes go through Node's stream, which on a pipe never blocks the event loop:
 * what the reader has not taken yet waits in memory, up to MAX_BACKLOG_BYTES.
 */
export class LogSink {
  private readonly dropped = { closed: 0, backlog: 0 };
  private closed = false;

  constructor(
    private readonly out: Writable = process.stdout,
    private readonly maxBacklogBytes = MAX_BACKLOG_BYTES,
  ) {
    // EPIPE and the like arrive here instead of as an uncaught exception.
    out.on('error', () => {
      this.closed = true;
    });
  }

  write(line: string): void {
    if (this.closed || this.out.destroyed || !this.out.writable) {
      this.dropped.closed += 1;
      return;
    }
    if (this.out.writableLength > this.maxBacklogBytes) {
      this.dropped.backlog += 1;
      return;
    }
    this.out.write(line);
  }

  /** Lines dropped so far, by reason. */
  droppedLines(reason: DropReason): number {
    return this.dropped[reason];
  }
}
