/** Every start path passes the node flags the server is meant to run with (src/cli/node-flags.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, SERVER_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { startScriptNodeFlags } from '../../bench/support/server-process.js';

const root = new URL('../..', import.meta.url).pathname;
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8');

describe('server node flags', () => {
  it('are passed by npm start, the image and the bin', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts
      .start;
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read('Dockerfile'))?.[1] ?? '';
    const shebang = read('src/cli.ts').split('\n')[0]!;
    expect(start).toContain(`node ${SERVER_NODE_FLAGS.join(' ')} dist/cli.js start`);
    expect(JSON.parse(entrypoint)).toEqual(['node', ...SERVER_NODE_FLAGS, 'dist/cli.js']);
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
  });

  it('are what the benchmarks start a checkout with', () => {
    expect(startScriptNodeFlags(root)).toEqual([...SERVER_NODE_FLAGS]);
  });

  it('are missing unless given on the command line or in NODE_OPTIONS', () => {
    expect(missingNodeFlags([], undefined)).toEqual([...SERVER_NODE_FLAGS]);
    expect(
      missingNodeFlags(
        ['--max-semi-space-size=64', '--min-semi-space-size=16', '--heap-growing-percent=100'],
        undefined,
      ),
    ).toEqual([]);
    expect(
      missingNodeFlags(
        ['--min-semi-space-size=16'],
        '--enable-source-maps --max-semi-space-size=64 --heap-growing-percent=100',
      ),
    ).toEqual([]);
    // Another size is the operator's choice, V8's underscore spelling the same flag.
    expect(
      missingNodeFlags(
        ['--max_semi_space_size=32', '--min_semi_space_size=8', '--heap_growing_percent=50'],
        '',
      ),
    ).toEqual([]);
    expect(missingNodeFlags(['--max-old-space-size=64'], '--cpu-prof')).toEqual([
      ...SERVER_NODE_FLAGS,
    ]);
    expect(missingNodeFlags(['--max-semi-space-size=64'], undefined)).toEqual([
      '--min-semi-space-size=16',
      '--heap-growing-percent=100',
    ]);
  });
});
