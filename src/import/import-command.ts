import { parseArgs } from 'node:util';
import { openStorage } from '../adapters/storage/storage.js';
import { MIGRATIONS } from '../catalogue/migrations.js';
import { loadConfig } from '../config/load-config.js';
import { GoSource } from './go-easy-chat/go-source.js';
import { importGoEasyChat } from './go-easy-chat/importer.js';
import { formatSummary } from './go-easy-chat/summary.js';
import { IMPORT_HELP } from '../cli/args.js';
import { ProgressBar } from './progress-bar.js';

/** `easy-chat import go-easy-chat …`; returns the exit code. */
export async function importCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        from: { type: 'string' },
        config: { type: 'string' },
        batch: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    const message = (err as Error).message.split('. ')[0];
    console.error(`easy-chat import: ${message}; see easy-chat import --help`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    console.log(IMPORT_HELP);
    return 0;
  }
  const batchSize = values.batch === undefined ? 500 : Number(values.batch);
  if (
    positionals[1] !== 'go-easy-chat' ||
    !values.from ||
    !/^(mysql|mariadb):\/\//i.test(values.from) ||
    !Number.isInteger(batchSize) ||
    batchSize < 1 ||
    batchSize > 10_000
  ) {
    console.error(IMPORT_HELP);
    return 2;
  }

  const config = loadConfig({ file: values.config });
  const storage = openStorage(config, MIGRATIONS);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let source: GoSource | undefined;
  try {
    await storage.migrate();
    source = await GoSource.open(values.from);
    console.error(`importing ${GoSource.describe(values.from)} into ${config.storage.driver}`);
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
