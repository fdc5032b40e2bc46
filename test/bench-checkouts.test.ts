import { describe, expect, it } from 'vitest';
import { checkoutsFromEnv } from '../bench/support/systems.js';

describe('checkoutsFromEnv (BENCH_REF_DIR for every benchmark that runs earlier checkouts)', () => {
  it('is empty without BENCH_REF_DIR', () => {
    expect(checkoutsFromEnv({})).toEqual([]);
  });

  it('pairs each directory with its label and the settings it does not know', () => {
    expect(
      checkoutsFromEnv({
        BENCH_REF_DIR: '/tmp/a,/tmp/b,/tmp/c',
        BENCH_REF_LABEL: 'main,old',
        BENCH_REF_DROP_ENV: 'EC_X,EC_Y;;EC_Z',
      }),
    ).toEqual([
      { dir: '/tmp/a', label: 'main', dropEnv: ['EC_X', 'EC_Y'] },
      { dir: '/tmp/b', label: 'old', dropEnv: [] },
      { dir: '/tmp/c', label: 'reference 3', dropEnv: ['EC_Z'] },
    ]);
  });
});
