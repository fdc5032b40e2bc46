/**
 * Node flags the server is meant to run with. V8 reads them only when the process
 * starts, so they cannot be set from here: every start path passes them (the `npm
 * start` script, the Dockerfile's ENTRYPOINT, the `easy-chat` bin's shebang; the
 * benchmarks start a checkout the way its `npm start` does), and `start` logs a
 * warning when they are missing. test/cli/node-flags.test.ts keeps the paths in step.
 *
 * - `--max-semi-space-size=64` (MiB): a larger young generation. At the default
 *   (16) a busy server scavenged 3x as often, and in a scavenge the event loop stops:
 *   on the shared 2-core machine `bench:private` at 650 questions/s saw the server's
 *   GC pauses drop from 4.4–4.8 s to 2.5–2.8 s a run and its p99 round trip fall with
 *   them (docs/performance-log.md, "Young generation"). It costs at most 2 × 48 MiB more
 *   memory, committed only while the allocation rate needs it.
 * - `--min-semi-space-size=16` (MiB): the young generation does not shrink below
 *   this. V8 shrinks it to 1 MiB at the first scavenge after a lull (its allocation
 *   rate looked low), so the first seconds of the next burst scavenged every ~30
 *   messages, 23–26 pauses in 2 s where a warm server has 1–4, and promoted what was in
 *   flight at each (docs/performance-log.md, "Why PostgreSQL's tail depended on the
 *   run"). It costs up to 2 × 15 MiB more memory when idle.
 * - `--heap-growing-percent=100`: after a mark-compact the old generation may grow to
 *   twice what is live before the next one. V8's own choice on the server was about
 *   1.2 times (live ~50 MB, next limit ~60), so at 950 questions/s a mark-compact came
 *   every 3-4 s, each with 150-300 ms of marking on a helper thread of a 2-core
 *   machine: one per 10 s window instead of six to eight, and the p99 round trip of
 *   every one of nine windows lower (docs/performance-log.md, "What a SQLite server's live
 *   heap is made of, and how often it is marked"). It costs the old generation's
 *   growth under load, 10-20 MiB more resident memory; an idle server is still
 *   compacted by V8's memory reducer.
 */
export const SERVER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=16',
  '--heap-growing-percent=100',
];

/**
 * The flags of SERVER_NODE_FLAGS this process was not started with, by name (a
 * different value counts as chosen: an operator may set another size on purpose),
 * from the command line or NODE_OPTIONS.
 */
export function missingNodeFlags(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  wanted: readonly string[] = SERVER_NODE_FLAGS,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName);
  return wanted.filter((flag) => !given.includes(flagName(flag)));
}

/** `--max-semi-space-size` of `--max-semi-space-size=64` (V8 also accepts `_` for `-`). */
function flagName(arg: string): string {
  return arg.split('=')[0]!.replaceAll('_', '-');
}
