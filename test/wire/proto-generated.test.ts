import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateProto } from '../../scripts/gen-proto.js';
import { RUN_PROTOC_TESTS } from '../support/protoc.js';

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
}

describe.runIf(RUN_PROTOC_TESTS)('generated protobuf code', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'easy-chat-proto-'));
  afterAll(() => rmSync(fresh, { recursive: true, force: true }));

  it('is exactly what `npm run generate` makes of proto/ (run it after changing a .proto)', () => {
    generateProto(fresh);
    expect(files(GENERATED_DIR)).toEqual(files(fresh));
    for (const file of files(fresh)) {
      const committed = readFileSync(join(GENERATED_DIR, file), 'utf8');
      expect(committed, `src/gen/proto/${file} is stale`).toBe(
        readFileSync(join(fresh, file), 'utf8'),
      );
    }
  });
});
