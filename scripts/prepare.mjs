// Runs after `npm install` / `npm ci` (npm's `prepare`): compiles packages/sdk to
// packages/sdk/dist so `import { ChatClient } from '@easy-chat/sdk'` works from plain
// Node at once (inside this repository tests and Vite use the TypeScript source through
// the `source` export condition; Node knows no such condition and loads dist/).
// Skipped where there is nothing to build with: a production install without
// TypeScript, or a Docker stage that copied package.json before the sources.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';

const sdkConfig = 'packages/sdk/tsconfig.build.json';
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (!tsc || !existsSync(sdkConfig) || !existsSync('packages/sdk/src/index.ts')) {
  console.log('prepare: SDK sources or TypeScript not here; skipped building @easy-chat/sdk');
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', sdkConfig], { stdio: 'inherit' });
process.exit(result.status ?? 1);
