/**
 * The closing line CI counts tests by (test/support/summary-reporter.ts): a suite
 * whose beforeAll threw must count as failed, not as skipped tests, or a cluster
 * that never started would read "0 failed".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'easy-chat-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs vitest on one file of `source` with only the summary reporter; its last line. */
async function summaryOf(source: string, extra: string[] = []): Promise<string> {
  writeFileSync(join(dir, 'probe.test.ts'), source);
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--root',
      dir,
      // The probe sits outside the repository: no config, vitest's functions as globals.
      '--globals',
      '--reporter',
      join(root, 'test/support/summary-reporter.ts'),
      ...extra,
    ],
    { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.on('exit', resolve));
  return out.trim().split('\n').at(-1) ?? '';
}

const PROBE = `describe('cluster', () => {
  beforeAll(() => { throw new Error('did not start'); });
  it('a', () => {});
  it('b', () => {});
});
describe('fine', () => {
  it('c', () => {});
  it.skip('d', () => {});
});
`;

it('counts the tests of a suite whose beforeAll threw as failed, real skips as skipped', async () => {
  expect(await summaryOf(PROBE)).toBe('1 passed, 2 failed, 1 skipped');
  // Left out by -t: skipped, whatever their hooks would have done.
  expect(await summaryOf(PROBE, ['-t', 'fine'])).toBe('1 passed, 0 failed, 3 skipped');
  expect(await summaryOf("it('e', () => {});\n")).toBe('1 passed, 0 failed');
}, 60_000);
