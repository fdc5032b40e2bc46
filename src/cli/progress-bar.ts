import type { ImportProgress } from '../import/go-easy-chat/importer.js';

const WIDTH = 30;

/**
 * A progress bar per table on a terminal (redrawn in place), or a line every
 * 10 % when the output is a file or a pipe (logs stay readable).
 */
export class ProgressBar implements ImportProgress {
  private name = '';
  private total = 0;
  private done_ = 0;
  private lastTenth = -1;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  table(name: string, total: number): void {
    this.name = name;
    this.total = total;
    this.done_ = 0;
    this.lastTenth = -1;
    this.draw();
  }

  advance(rows: number): void {
    this.done_ += rows;
    this.draw();
  }

  done(): void {
    this.done_ = Math.max(this.done_, this.total);
    this.draw(true);
    if (this.out.isTTY) this.out.write('\n');
  }

  private draw(final = false): void {
    const ratio = this.total === 0 ? 1 : Math.min(1, this.done_ / this.total);
    const line = `${this.name.padEnd(16)} [${'#'.repeat(Math.round(ratio * WIDTH)).padEnd(WIDTH, '.')}] ${this.done_}/${this.total}`;
    if (this.out.isTTY) {
      this.out.write(`\r${line}`);
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth === this.lastTenth && !final) return;
    if (final && tenth === this.lastTenth && this.lastTenth === 10) return;
    this.lastTenth = tenth;
    this.out.write(`${line}\n`);
  }
}
