/* eslint-disable @typescript-eslint/no-unsafe-argument -- plain JavaScript (runs before tsx exists); its types are in build-if-changed.d.mts */
// `npm start`'s build step: compiles the server and builds the web app only when
// their inputs are newer than their outputs, so a start with nothing changed goes
// straight to `node dist/cli.js start` instead of spending ~20 s rebuilding.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** What is built from what: inputs (files or folders) and the one output file to compare. */
export const TARGETS = [
  {
    name: 'server',
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    output: 'dist/cli.js',
    command: ['npx', 'tsc', '-p', 'tsconfig.build.json'],
  },
  {
    name: 'web app',
    inputs: ['web', 'packages/sdk/src', 'package.json'],
    output: 'web/dist/index.html',
    command: ['npm', 'run', 'build:web', '--silent'],
  },
];

const SKIPPED = new Set(['node_modules', 'dist']);

/** The newest modification time (ms) under a file or folder, outputs and node_modules left out. */
export function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // Files only: a folder's own time changes when anything in it is added or removed,
  // including files that are no input (editor swap files).
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (SKIPPED.has(entry)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** The targets whose output is missing or older than any of their inputs. */
export function staleTargets(root, targets = TARGETS) {
  return targets.filter((t) => {
    const output = join(root, t.output);
    if (!existsSync(output)) return true;
    const built = statSync(output).mtimeMs;
    return t.inputs.some((input) => newestMtime(join(root, input)) > built);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stale = staleTargets(process.cwd());
  if (stale.length === 0) console.log('build: nothing changed since the last build');
  for (const target of stale) {
    console.log(`build: ${target.name} (${target.output} is older than its sources)`);
    const [cmd, ...args] = target.command;
    const result = spawnSync(cmd, args, { stdio: 'inherit' });
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
}
