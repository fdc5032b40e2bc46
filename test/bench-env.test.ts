import { afterEach, describe, expect, it } from 'vitest';
import { envNumber } from '../bench/support/run.js';

const NAME = 'BENCH_ENV_NUMBER_TEST';

describe('envNumber (bench settings from the environment)', () => {
  afterEach(() => {
    delete process.env[NAME];
  });

  it('takes the fallback when the variable is unset or blank', () => {
    expect(envNumber(NAME, 7)).toBe(7);
    process.env[NAME] = '  ';
    expect(envNumber(NAME, 7)).toBe(7);
  });

  it('reads numbers, decimals and zero', () => {
    process.env[NAME] = '0';
    expect(envNumber(NAME, 7)).toBe(0);
    process.env[NAME] = '2.5';
    expect(envNumber(NAME, 7)).toBe(2.5);
  });

  it('refuses a word or a unit with the variable named, instead of NaN', () => {
    process.env[NAME] = 'ten';
    expect(() => envNumber(NAME, 7)).toThrow(/BENCH_ENV_NUMBER_TEST="ten" is not a number/);
    process.env[NAME] = '5s';
    expect(() => envNumber(NAME, 7)).toThrow(/is not a number/);
  });
});
