/**
 * What every scenario script shares: logging, a progress line, cleanup of everything
 * it started (on success, failure, Ctrl-C or SIGTERM), results on disk.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const benchDir = new URL('..', import.meta.url).pathname;
export const resultsDir = join(benchDir, 'results');

export const log = (...args: unknown[]) =>
  console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...args);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A number from the environment, or `fallback` when unset. A value that is not a number
 * ("ten", "5s") stops the script with its name: `Number()` would give NaN, and a NaN
 * rate or round count runs a benchmark that measures nothing without saying why.
 */
export const envNumber = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${JSON.stringify(v)} is not a number`);
  return n;
};

const cleanups: Array<() => Promise<void> | void> = [];

/** Registers something to stop when the script ends; returns an unregister function. */
export function onCleanup(fn: () => Promise<void> | void): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function cleanupAll() {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      log('cleanup failed:', err);
    }
  }
}

let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) process.exit(130);
    signalled = true;
    log(`${signal}: stopping everything this benchmark started`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

/**
 * A live status line on stderr while `fn` runs: on a terminal it is rewritten in place,
 * otherwise printed every few seconds. `render` returns the current text.
 */
export async function withProgress<T>(
  label: string,
  render: () => string,
  fn: () => Promise<T>,
): Promise<T> {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  const show = () => {
    const text = `  ${label} ${((Date.now() - started) / 1000).toFixed(0)}s ${render()}`;
    if (tty) process.stderr.write(`\r\x1b[K${text}`);
    else log(text.trim());
  };
  const timer = setInterval(show, tty ? 500 : 5000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    if (tty) process.stderr.write('\r\x1b[K');
  }
}

export function writeResult(name: string, data: unknown) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/** True when the module is the script node was started with. */
export const isMain = (meta: ImportMeta) =>
  process.argv[1] !== undefined && meta.url === pathToFileURL(process.argv[1]).href;

/** Runs a scenario script's main, stopping everything it started however it ends. */
export function main(fn: () => Promise<void>) {
  fn()
    .then(cleanupAll, async (err: unknown) => {
      console.error(err);
      await cleanupAll();
      process.exit(1);
    })
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
}
