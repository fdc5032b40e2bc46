import { describe, expect, it } from 'vitest';
import { isJsonNumber, jsonString } from './json-text.js';

describe('jsonString', () => {
  it('is JSON.stringify of the string, for plain text and every escape', () => {
    const strings = [
      '',
      '01JFABCDEFGHJKMNPQRSTVWXYZ',
      " !#$%&'()*+,-./:;<=>?@[]^_`{|}~",
      '"',
      '\\',
      'a"b\\c',
      '\u007f',
      '\u0080 é ü 中文 😀',
      '\u2028\u2029',
      '\ud800',
      'x\udfffy',
      '😀'.slice(0, 1),
    ];
    // Every code unit below 0x100 alone, and inside plain text.
    for (let c = 0; c < 0x100; c += 1)
      strings.push(String.fromCharCode(c), `a${String.fromCharCode(c)}b`);
    for (const text of strings) expect(jsonString(text)).toBe(JSON.stringify(text));
  });
});

describe('isJsonNumber', () => {
  it('holds for numbers whose JSON is their String', () => {
    for (const n of [0, -0, 1, -1, 1.5, 1e21, -1e-7, Number.MAX_SAFE_INTEGER]) {
      expect(isJsonNumber(n)).toBe(true);
      expect(String(n)).toBe(JSON.stringify(n));
    }
    for (const v of [NaN, Infinity, -Infinity, '1', null, undefined, 1n]) {
      expect(isJsonNumber(v)).toBe(false);
    }
  });
});
