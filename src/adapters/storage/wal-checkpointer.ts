import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What `PRAGMA wal_checkpoint` reports: frames in the WAL, and how many are in the database. */
export interface CheckpointResult {
  log: number;
  checkpointed: number;
}

export interface WalCheckpointerOptions {
  /** The database file (its WAL is `<file>-wal`). */
  file: string;
  /** The pragma of the app's connection: a checkpoint syncs as its commits do. */
  synchronous: 'full' | 'normal';
  /** WAL frames (pages) after which the WAL is made to start over from its beginning. */
  restartPages: number;
  /** How often the worker copies what was committed since into the database file. */
  intervalMs: number;
}

/**
 * The worker's side, run with `eval` so that it works from dist/ and under tsx alike: its
 * own connection to the file, at the app's synchronous level (a checkpoint at OFF would
 * not sync the database file before the WAL is reused), and a passive checkpoint per
 * request. A passive checkpoint never waits for a lock and never blocks a writer.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
db.pragma('synchronous = ' + workerData.synchronous);
parentPort.on('message', (id) => {
  if (id === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ id, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message) });
  }
});
`;

/**
 * Checkpoints SQLite's WAL from a worker thread instead of inside a COMMIT.
 *
 * With SQLite's automatic checkpoint, the COMMIT that takes the WAL past 1,000 pages
 * also copies those pages into the database file and fsyncs it, all on the event loop
 * (better-sqlite3 is synchronous): that one send stalls every connection of the
 * process for the copy and two fsyncs. Here the app's connection never checkpoints
 * (`wal_autocheckpoint = 0`); a worker with a connection of its own copies committed
 * frames into the database file every `intervalMs`, beside the writer, never blocking it.
 *
 * That alone lets the WAL grow without bound under a writer that never pauses: SQLite
 * starts the WAL over from its beginning only when a write begins with every frame
 * already copied, and a passive checkpoint never catches up with frames appended while
 * it runs. So once the WAL holds `restartPages` frames, the next checkpoint runs while
 * the app's connection is held (Kysely hands SQLite's one connection to one user at a
 * time): no transaction runs meanwhile, the checkpoint copies the few frames the last
 * background one left and completes, and the next write restarts the WAL. Sends wait for
 * that short checkpoint in the connection's queue; the event loop does not.
 *
 * Durability is SQLite's own: commits still sync the WAL at the configured level, and a
 * checkpoint syncs the WAL before copying and the database file before the WAL can be
 * reused, whichever connection runs it. A process killed during a checkpoint leaves a
 * WAL that the next open replays.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly waiting = new Map<number, (r: CheckpointResult | Error) => void>();
  private nextId = 0;
  private closed = false;
  /** Checkpoints run so far, and those that ran with the connection held (for tests and metrics). */
  readonly counts = { background: 0, restarts: 0, failures: 0 };

  constructor(
    private readonly db: () => Kysely<Database>,
    private readonly options: WalCheckpointerOptions,
  ) {}

  /** Starts the worker; call once the database file is in WAL mode. */
  start(): void {
    if (this.worker || this.closed) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file: this.options.file,
        synchronous: this.options.synchronous === 'full' ? 'FULL' : 'NORMAL',
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      },
    });
    worker.on('message', (m: { id: number; error?: string } & CheckpointResult) => {
      const settle = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      settle?.(m.error === undefined ? m : new Error(`WAL checkpoint failed: ${m.error}`));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => this.failAll(new Error('WAL checkpoint worker exited')));
    worker.unref();
    this.worker = worker;
    this.timer = setInterval(() => {
      this.running ??= this.round().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One round: a background checkpoint, then a restart if the WAL reached its bound. */
  private async round(): Promise<void> {
    try {
      const { log } = await this.checkpoint();
      this.counts.background += 1;
      if (log < this.options.restartPages || this.closed) return;
      await this.db()
        .connection()
        .execute(() => this.checkpoint());
      this.counts.restarts += 1;
    } catch {
      // A busy or failed checkpoint is retried next round; the WAL keeps every commit.
      this.counts.failures += 1;
    }
  }

  /** A passive checkpoint in the worker. */
  checkpoint(): Promise<CheckpointResult> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('WAL checkpointer not started'));
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => (r instanceof Error ? reject(r) : resolve(r)));
      worker.postMessage(id);
    });
  }

  private failAll(err: Error): void {
    for (const settle of this.waiting.values()) settle(err);
    this.waiting.clear();
  }

  /** Stops checkpointing; the app's connection, closed after, checkpoints what is left. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    // Its connection closed first: the app's, closed last, then checkpoints what is left.
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Unreferenced while it works (it must not keep a process alive); referenced now,
    // so that the process waits for it to close its connection.
    worker.ref();
    worker.postMessage('close');
    const timeout = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(timeout);
  }
}
