import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue } from './keyed-serial-queue.js';

describe('KeyedSerialQueue', () => {
  it('starts the task of an idle key before run returns, and queues the key’s later tasks behind it', async () => {
    const errors: unknown[] = [];
    const queue = new KeyedSerialQueue((err) => errors.push(err));
    const log: string[] = [];
    let release!: () => void;
    const first = queue.run('c1', () => {
      log.push('1 start');
      return new Promise<void>((resolve) => {
        release = () => {
          log.push('1 end');
          resolve();
        };
      });
    });
    // Started at once: nothing was pending for c1.
    expect(log).toEqual(['1 start']);
    const second = queue.run('c1', async () => {
      log.push('2');
    });
    // Another key does not wait for c1, and starts at once too.
    const other = queue.run('c2', async () => {
      log.push('other');
    });
    expect(log).toEqual(['1 start', 'other']);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['1 start', 'other']);
    release();
    await Promise.all([first, second, other]);
    expect(log).toEqual(['1 start', 'other', '1 end', '2']);
    expect(errors).toEqual([]);
    expect(queue.activeKeys).toBe(0);
  });

  it('reports a task that throws before returning its promise, and the key goes on', async () => {
    const errors: Array<[unknown, string]> = [];
    const queue = new KeyedSerialQueue((err, key) => errors.push([err, key]));
    const boom = new Error('boom');
    const failed = queue.run('c1', () => {
      throw boom;
    });
    const ran: number[] = [];
    const next = queue.run('c1', async () => {
      ran.push(2);
    });
    await expect(failed).resolves.toBeUndefined();
    await next;
    expect(errors).toEqual([[boom, 'c1']]);
    expect(ran).toEqual([2]);
    expect(queue.activeKeys).toBe(0);
  });

  it('drain waits for every queued task', async () => {
    const queue = new KeyedSerialQueue(() => undefined);
    let done = 0;
    for (let i = 0; i < 3; i += 1) {
      void queue.run(`k${i % 2}`, async () => {
        await new Promise((r) => setTimeout(r, 5));
        done += 1;
      });
    }
    await queue.drain();
    expect(done).toBe(3);
  });
});
