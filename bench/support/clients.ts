/** Connecting a system's users from the load-generator pool, spread over processes and servers. */
import type { ClientUser } from './drivers.js';
import { log, withProgress } from './run.js';
import type { System } from './systems.js';
import { split, type Pool } from './worker-pool.js';

/** Where each user ended up: worker index and index in that worker's set. */
export interface Placement {
  worker: number;
  index: number;
}

/**
 * Connects every user of `system` into the set `set` of the pool, spread round-robin
 * over the load generators and, within each, over the server processes. Throws unless
 * all connect.
 */
export async function connectUsers(
  pool: Pool,
  system: System,
  set: string,
  users: ClientUser[],
  concurrency = 100,
  /** Consecutive users that must share a load generator (2 for chat pairs). */
  together = 1,
): Promise<Placement[]> {
  const placements: Placement[] = [];
  const perWorker: Array<Array<{ u: ClientUser; i: number }>> = pool.workers.map(() => []);
  users.forEach((u, i) => perWorker[Math.floor(i / together) % pool.size]!.push({ u, i }));
  const results = await withProgress(
    `${system.label}: connecting ${users.length}`,
    () => `${pool.total('connected')}/${users.length}`,
    () =>
      Promise.all(
        perWorker.map(async (items, w) => {
          // One connect call per server process, so the worker knows the URL.
          const byUrl = split(items, system.urls.length);
          let connected = 0;
          let failed = 0;
          let retried = 0;
          const errors: string[] = [];
          for (let p = 0; p < byUrl.length; p += 1) {
            const group = byUrl[p]!;
            if (group.length === 0) continue;
            const r = await pool.workers[w]!.run<{
              connected: number;
              failed: number;
              retried: number;
              errors: string[];
            }>('connect', {
              set,
              driver: system.driver,
              url: system.urls[p],
              users: group.map((x) => x.u),
              concurrency,
            });
            group.forEach(
              (x, k) => (placements[x.i] = { worker: w, index: r.connected - group.length + k }),
            );
            connected = r.connected;
            failed += r.failed;
            retried += r.retried;
            errors.push(...r.errors);
          }
          return { connected, failed, retried, errors };
        }),
      ),
  );
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const retried = results.reduce((n, r) => n + r.retried, 0);
  if (retried > 0) log(`  ${system.label}: ${retried} connection attempts failed and were retried`);
  if (failed > 0)
    throw new Error(
      `${system.label}: ${failed}/${users.length} sockets failed: ${results
        .flatMap((r) => r.errors)
        .slice(0, 3)
        .join('; ')}`,
    );
  return placements;
}
