import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { FileRecord } from './file.entity.js';
import type { FileRepository } from './file.repository.js';

export type SweepReason = 'orphan' | 'owner_deleted';

/** How many files one pass removes at most (the next pass takes the rest). */
const BATCH = 200;

/**
 * Removes files nobody can reach: uploads that no message carried within
 * `files.orphanHours` (abandoned, or every message recalled), and files whose
 * owner's account is gone. Runs on worker processes; several workers sweeping at
 * once only repeat idempotent deletes.
 */
export class FileSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly removed: Counter<'reason'>;

  constructor(
    private readonly deps: {
      files: FileRepository;
      removeBlobs: (id: string) => Promise<void>;
      orphanHours: number;
      intervalSec: number;
      clock: Clock;
      logger: Logger;
      registry: Registry;
    },
  ) {
    this.removed = new Counter({
      name: 'easychat_files_swept_total',
      help: 'Files removed by the sweep job, by reason (orphan: never sent or all messages recalled; owner_deleted)',
      labelNames: ['reason'] as const,
      registers: [deps.registry],
    });
    for (const reason of ['orphan', 'owner_deleted'] as const) this.removed.inc({ reason }, 0);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((err: unknown) =>
          this.deps.logger.warn({ err }, 'file sweep failed; retrying next interval'),
        )
        .finally(() => (this.running = undefined));
    }, this.deps.intervalSec * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; answers how many files it removed, by reason. */
  async sweep(): Promise<Record<SweepReason, number>> {
    const { files, orphanHours, clock } = this.deps;
    const cutoff = clock() - orphanHours * 3_600_000;
    const orphan = await this.removeAll(await files.unreferencedBefore(cutoff, BATCH), 'orphan');
    const ownerDeleted = await this.removeAll(await files.ownerlessFiles(BATCH), 'owner_deleted');
    return { orphan, owner_deleted: ownerDeleted };
  }

  private async removeAll(list: FileRecord[], reason: SweepReason): Promise<number> {
    for (const file of list) {
      // The row goes first: a crash in between leaves stray bytes, never a row without them.
      await this.deps.files.delete(file.id);
      await this.deps.removeBlobs(file.id);
      this.removed.inc({ reason });
    }
    if (list.length > 0) this.deps.logger.info({ reason, count: list.length }, 'files swept');
    return list.length;
  }
}
