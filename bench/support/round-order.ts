/**
 * The order in which a benchmark runs its systems in round `round`: the list turned by
 * one place every second round, and reversed every other round. Over 2 × (systems)
 * rounds every system takes every place equally often. With two systems that is A B,
 * B A, B A, A B, …: each first and last equally often, as with the plain reversal. With
 * three or more the plain reversal (A B C, C B A, …) kept the middle system in the
 * middle every round and ran the outer ones twice in a row across rounds, and a
 * system's place moved its figures more than a 5 % change did (docs/performance-log.md,
 * "A batch of one statement without BEGIN and COMMIT").
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const turn = Math.floor(round / 2) % n;
  const turned = [...items.slice(turn), ...items.slice(0, turn)];
  return round % 2 === 0 ? turned : turned.reverse();
}
