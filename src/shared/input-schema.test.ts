import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { compileInput, hardenInputSchema, MAX_INPUT_NUMBER } from './input-schema.js';

describe('input rules', () => {
  const Body = Type.Object({
    name: Type.String({ pattern: '\\S', maxLength: 10 }),
    plain: Type.Optional(Type.String()),
    seq: Type.Integer({ minimum: 0 }),
    ratio: Type.Optional(Type.Number({ maximum: 1e308 })),
    tags: Type.Optional(Type.Array(Type.String())),
    map: Type.Optional(Type.Record(Type.String(), Type.Integer())),
    either: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
  });
  const check = compileInput(Body);
  const ok = { name: 'a', seq: 1 };

  it('refuses NUL in every string, at any depth, and in record keys', () => {
    expect(check.Check(ok)).toBe(true);
    for (const bad of [
      { ...ok, name: 'a\u0000' },
      { ...ok, plain: '\u0000' },
      { ...ok, tags: ['x', 'y\u0000z'] },
      { ...ok, map: { 'k\u0000': 1 } },
      { ...ok, either: '\u0000' },
    ]) {
      expect(check.Check(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('keeps a declared pattern next to the NUL rule', () => {
    expect(check.Check({ ...ok, name: ' ' })).toBe(false);
  });

  it('bounds every number to the safe integers and refuses non-finite ones', () => {
    expect(check.Check({ ...ok, seq: MAX_INPUT_NUMBER })).toBe(true);
    for (const seq of [MAX_INPUT_NUMBER + 2, 2 ** 63, 1e300, Infinity, NaN]) {
      expect(check.Check({ ...ok, seq }), String(seq)).toBe(false);
    }
    expect(check.Check({ ...ok, ratio: 1e300 })).toBe(false);
    expect(check.Check({ ...ok, either: 2 ** 63 })).toBe(false);
    expect(check.Check({ ...ok, ratio: 0.5 })).toBe(true);
  });

  it('keeps tighter declared bounds and never changes the declared schema', () => {
    const before = JSON.stringify(Body);
    const hardened = hardenInputSchema(Body) as any;
    expect(JSON.stringify(Body)).toBe(before);
    expect(hardened.properties.seq).toMatchObject({ minimum: 0, maximum: MAX_INPUT_NUMBER });
    expect(hardened.properties.name.allOf).toEqual([{ pattern: '^[^\\u0000]*$' }]);
    expect(hardened.properties.plain.pattern).toBe('^[^\\u0000]*$');
    // TypeBox's hidden markers survive (Optional is how `required` is derived).
    expect((hardened.properties.plain as Record<string, unknown>)['~optional']).toBe(true);
  });
});
