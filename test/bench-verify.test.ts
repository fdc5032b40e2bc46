import { describe, expect, it } from 'vitest';
import { compare, POSTGRES_FIGURES, postgresAnswers, type Headline } from '../bench/verify.js';

const recorded: Headline = {
  recordedAt: '2026-12-01T00:00:00Z',
  noise: 0.25,
  figures: {
    'private.sqlite': { what: 'x', median: 2, min: 1.8, max: 2.4 },
    'history.sqlite': { what: 'y', median: 1.4, min: 1.2, max: 1.6 },
  },
};
const at = (median: number) => ({ what: '', median, min: median, max: median });

describe('bench:verify compare', () => {
  it('passes figures inside their range widened by the noise', () => {
    expect(compare(recorded, { 'private.sqlite': at(2.99), 'history.sqlite': at(0.91) })).toEqual(
      [],
    );
  });

  it('fails a figure above the top (slower) and one below the bottom (stale record)', () => {
    const failures = compare(recorded, { 'private.sqlite': at(3.01), 'history.sqlite': at(0.89) });
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/^private\.sqlite: 3\.01x is above 3\.00x \(slower\)$/);
    expect(failures[1]).toMatch(/^history\.sqlite: 0\.89x is below 0\.90x/);
  });

  it('fails a recorded figure that was not measured', () => {
    expect(compare(recorded, { 'private.sqlite': at(2) })).toEqual([
      'history.sqlite: not measured',
    ]);
  });
});

describe('bench:verify without PostgreSQL', () => {
  const withPostgres: Headline = {
    ...recorded,
    figures: {
      ...recorded.figures,
      'private.postgres': { what: 'z', median: 1.4, min: 1.3, max: 1.5 },
      'history.postgres': { what: 'w', median: 1.3, min: 1.2, max: 1.4 },
    },
  };
  const sqliteOnly = { 'private.sqlite': at(2), 'history.sqlite': at(1.4) };

  it('skips the PostgreSQL figures it could not measure, and fails them otherwise', () => {
    expect(compare(withPostgres, sqliteOnly, POSTGRES_FIGURES)).toEqual([]);
    expect(compare(withPostgres, sqliteOnly)).toEqual([
      'private.postgres: not measured',
      'history.postgres: not measured',
    ]);
  });

  it('still compares a skipped figure that was measured after all', () => {
    const measured = { ...sqliteOnly, 'private.postgres': at(2.1), 'history.postgres': at(1.3) };
    expect(compare(withPostgres, measured, POSTGRES_FIGURES)).toEqual([
      'private.postgres: 2.10x is above 1.88x (slower)',
    ]);
  });

  it('tells a PostgreSQL that answers from a port where none listens', async () => {
    expect(await postgresAnswers('postgres://postgres@127.0.0.1:1/test')).toBe(false);
    const url = process.env.TEST_DATABASE_URL;
    if (url) expect(await postgresAnswers(url)).toBe(true);
  });
});
