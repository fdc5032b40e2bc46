// Regenerates the TypeScript of proto/*.proto into src/gen/proto/ with Debian's
// `protoc` (package protobuf-compiler) and @bufbuild/protoc-gen-es. The output is
// committed; src/adapters/bus/proto-generated.test.ts fails when it is stale.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PROTO_DIR = join(ROOT, 'proto');
export const GENERATED_DIR = join(ROOT, 'src/gen/proto');

/** Every .proto file under proto/, relative to it, sorted. */
export function protoFiles(dir = PROTO_DIR): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.proto'))
    .map((f) => relative(dir, join(dir, f)))
    .sort();
}

/** Runs protoc with the protoc-gen-es plugin, writing into `outDir`. */
export function generateProto(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const plugin = join(ROOT, 'node_modules/.bin/protoc-gen-es');
  execFileSync(
    'protoc',
    [
      `--proto_path=${PROTO_DIR}`,
      `--plugin=protoc-gen-es=${plugin}`,
      `--es_out=${outDir}`,
      '--es_opt=target=ts,import_extension=js',
      ...protoFiles(),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  rmSync(GENERATED_DIR, { recursive: true, force: true });
  generateProto(GENERATED_DIR);
  console.log(`wrote ${relative(ROOT, GENERATED_DIR)}/ from ${protoFiles().join(', ')}`);
}
