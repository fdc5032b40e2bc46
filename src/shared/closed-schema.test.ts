import { Type } from 'typebox';
import { compileInput } from './input-schema.js';
import { describe, expect, it } from 'vitest';
import { closeObjects, describeSchemaError } from './closed-schema.js';

describe('closeObjects', () => {
  const schema = Type.Object({
    name: Type.String(),
    msg: Type.Object({ content: Type.String() }),
    list: Type.Array(Type.Object({ id: Type.String() })),
    byId: Type.Record(Type.String(), Type.Object({ seq: Type.Integer() })),
    either: Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]),
    anything: Type.Unknown(),
  });
  const closed = compileInput(closeObjects(schema));
  const valid = {
    name: 'n',
    msg: { content: 'c' },
    list: [{ id: '1' }],
    byId: { x: { seq: 1 } },
    either: { a: 'a' },
    anything: { free: true },
  };

  it('closes every object, nested, in arrays, in records and in each alternative', () => {
    expect(closed.Check(valid)).toBe(true);
    const refused = [
      { ...valid, zzz: 1 },
      { ...valid, msg: { content: 'c', zzz: 1 } },
      { ...valid, list: [{ id: '1', zzz: 1 }] },
      { ...valid, byId: { x: { seq: 1, zzz: 1 } } },
      { ...valid, either: { a: 'a', zzz: 1 } },
    ];
    for (const value of refused) expect(closed.Check(value), JSON.stringify(value)).toBe(false);
  });

  it('leaves records, unknown values and the original schema as they were', () => {
    expect(closed.Check({ ...valid, byId: { any: { seq: 2 }, key: { seq: 3 } } })).toBe(true);
    expect(compileInput(schema).Check({ ...valid, zzz: 1 })).toBe(true);
  });

  it('names the unknown key and its place', () => {
    const errorOf = (value: unknown) => describeSchemaError(closed.Errors(value)[0], 'data');
    expect(errorOf({ ...valid, zzz: 1 })).toBe('data has unknown key "zzz"');
    expect(errorOf({ ...valid, msg: { content: 'c', sendId: 'x' } })).toBe(
      'data.msg has unknown key "sendId"',
    );
    expect(errorOf({ ...valid, name: 1 })).toMatch(/^data\.name /);
  });
});
