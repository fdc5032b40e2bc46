import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderErrorDocs } from './error-docs.js';
import { allErrorSpecs } from './error-registry.js';

describe('error registry', () => {
  const specs = allErrorSpecs();

  it('has unique codes and keys per module', () => {
    const codes = specs.map((s) => s.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('puts each module in its code range with a matching HTTP status', () => {
    const ranges: Record<string, number> = {
      common: 1,
      user: 2,
      social: 3,
      im: 4,
      event: 5,
      files: 6,
      push: 7,
    };
    for (const spec of specs) {
      expect(Math.floor(spec.code / 100000), spec.key).toBe(ranges[spec.module]);
      expect(spec.status, spec.key).toBeGreaterThanOrEqual(400);
      expect(spec.status, spec.key).toBeLessThan(600);
    }
  });

  it('is documented in docs/errors.md exactly as generated (run `npm run docs`)', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorDocs());
  });
});
