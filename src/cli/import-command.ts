import { openStorage } from '../adapters/storage/storage.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { loadConfig } from '../config/load-config.js';
import { GoSource } from '../import/go-easy-chat/go-source.js';
import { importGoEasyChat } from '../import/go-easy-chat/importer.js';
import { formatSummary } from '../import/go-easy-chat/summary.js';
import type { Invocation } from './args.js';
import { ProgressBar } from './progress-bar.js';

/** The arguments `parseCommandLine` read for `easy-chat import`. */
export type ImportInvocation = Extract<Invocation, { command: 'import' }>;

/** Runs `easy-chat import go-easy-chat …` (arguments already checked); returns the exit code. */
export async function importCommand(args: ImportInvocation): Promise<number> {
  const { from, batch: batchSize } = args;
  const config = loadConfig({ file: args.config });
  const storage = openStorage(config, MIGRATIONS);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let source: GoSource | undefined;
  try {
    await storage.migrate();
    source = await GoSource.open(from);
    console.error(`importing ${GoSource.describe(from)} into ${config.storage.driver}`);
    const summary = await importGoEasyChat(source, storage.db, {
      batchSize,
      progress: new ProgressBar(),
      signal: abort.signal,
    });
    console.log(formatSummary(summary));
    return 0;
  } catch (err) {
    if (abort.signal.aborted) {
      console.error(
        '\ninterrupted: what was imported stays; run the same command again to continue',
      );
      return 130;
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await source?.close();
    await storage.close();
  }
}
