/** `npm start` rebuilds only what changed (scripts/build-if-changed.mjs). */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleTargets } from '../../scripts/build-if-changed.mjs';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A project tree with every file dated `at` (seconds since the epoch). */
function tree(files: string[], at: number): string {
  const root = mkdtempSync(join(tmpdir(), 'easy-chat-build-'));
  roots.push(root);
  for (const file of files) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), 'x');
    utimesSync(join(root, file), at, at);
  }
  return root;
}

const touch = (root: string, file: string, at: number) => utimesSync(join(root, file), at, at);
const names = (root: string) => staleTargets(root).map((t) => t.name);

describe('build-if-changed', () => {
  const files = [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src/cli.ts',
    'src/app/create-app.ts',
    'web/src/App.tsx',
    'web/node_modules/x/index.js',
    'packages/sdk/src/index.ts',
    'dist/cli.js',
    'web/dist/index.html',
  ];

  it('builds nothing when every output is newer than its sources', () => {
    const root = tree(files, 1_000);
    touch(root, 'dist/cli.js', 2_000);
    touch(root, 'web/dist/index.html', 2_000);
    expect(names(root)).toEqual([]);
    // Folders under web/ that are not sources (node_modules, dist) do not count.
    touch(root, 'web/node_modules/x/index.js', 3_000);
    expect(names(root)).toEqual([]);
  });

  it('rebuilds the part whose source changed, and whatever was never built', () => {
    const root = tree(files, 1_000);
    touch(root, 'dist/cli.js', 2_000);
    touch(root, 'web/dist/index.html', 2_000);
    touch(root, 'src/app/create-app.ts', 3_000);
    expect(names(root)).toEqual(['server']);
    touch(root, 'dist/cli.js', 4_000);
    touch(root, 'packages/sdk/src/index.ts', 5_000);
    expect(names(root)).toEqual(['web app']);
    rmSync(join(root, 'dist'), { recursive: true });
    expect(names(root)).toEqual(['server', 'web app']);
  });
});
