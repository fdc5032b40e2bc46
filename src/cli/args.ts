import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ALL_ROLES } from '../config/config.schema.js';

/** What the command line asks for; `usage` is an answer to print and exit with `code`. */
export type Invocation =
  | { command: 'start'; roles?: string[]; config?: string }
  | { command: 'import'; source: 'go-easy-chat'; from: string; config?: string; batch: number }
  | { command: 'usage'; text: string; code: 0 | 2; toStderr: boolean };

const MAIN_HELP = `usage: easy-chat <command> [options]

Commands:
  start      run the server (API, WebSocket gateway, workers; see easy-chat start --help)
  import     copy another system's data in: easy-chat import go-easy-chat --from mysql://...
  help       show this text, or a command's: easy-chat help start

Options:
  -h, --help      show help
  -v, --version   print the version`;

const START_HELP = `usage: easy-chat start [--roles api,gateway,worker] [--config FILE]

Runs the server until SIGTERM or SIGINT. Prints one line when it is ready: the URL of
the app and of /docs, the data directory and the roles.

Options:
  --roles LIST    roles this process runs, comma separated (default: all of ${ALL_ROLES.join(', ')})
  --config FILE   YAML file merged over config/default.yaml and config/<env>.yaml
  -h, --help      show this text

Environment: PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, JWT_SECRET, LOG_LEVEL,
LOG_FORMAT (pretty | json; default pretty on a terminal), EASY_CHAT_ENV (development | test | production), and EC_<PATH> for any key
(e.g. EC_STORAGE__DRIVER=postgres).
A .env file in the working directory fills in variables not already set.
See docs/configuration.md.`;

const IMPORT_HELP = `usage: easy-chat import go-easy-chat --from mysql://user:pass@host:3306/db [--config FILE] [--batch N]

Copies the Go easy-chat's users, friends, friend requests, groups, members and join
requests into easy-chat's storage (any driver). Running it again imports only what is
missing; an interrupted run continues where it stopped. See docs/from-go-easy-chat.md.

Options:
  --from URL      the Go easy-chat's MySQL database (only read)
  --config FILE   YAML file merged over config/default.yaml and config/<env>.yaml: the
                  storage to import into, as for start (or EC_STORAGE__DRIVER, DATABASE_URL)
  --batch N       rows per statement, 1 to 10000 (default 500)
  -h, --help      show this text`;

const HELP: Record<string, string> = { start: START_HELP, import: IMPORT_HELP };

/** The package version, from the package.json one level above src/ or dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const usage = (text: string, code: 0 | 2 = 0): Invocation => ({
  command: 'usage',
  text,
  code,
  toStderr: code !== 0,
});

/**
 * Reads the command line strictly: an unknown command or option, or a missing
 * value, is answered with one line saying so and where to look (exit 2).
 */
export function parseCommandLine(argv: string[]): Invocation {
  const [command, ...rest] = argv;
  if (command === undefined) return usage(MAIN_HELP, 2);
  if (command === '-v' || command === '--version' || command === 'version') {
    return usage(version());
  }
  if (command === '-h' || command === '--help') return usage(MAIN_HELP);
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) return usage(MAIN_HELP);
    return HELP[topic] ? usage(HELP[topic]) : unknownCommand(topic);
  }
  if (command === 'import') return parseImport(rest);
  if (command !== 'start') {
    return command.startsWith('-')
      ? usage(`easy-chat: unknown option '${command}'; see easy-chat --help`, 2)
      : unknownCommand(command);
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        roles: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return usage(START_HELP);
    if (positionals.length > 0) {
      return usage(
        `easy-chat: start takes no argument '${positionals[0]}'; see easy-chat start --help`,
        2,
      );
    }
    return {
      command: 'start',
      roles: values.roles?.split(',').map((r) => r.trim()),
      config: values.config,
    };
  } catch (err) {
    // parseArgs' own message names the option ("Unknown option '--port'. ...").
    const message = (err as Error).message.split('. ')[0];
    return usage(`easy-chat start: ${message}; see easy-chat start --help`, 2);
  }
}

/** Kinds of data `easy-chat import` copies in. */
const IMPORT_SOURCES = ['go-easy-chat'] as const;

/** `easy-chat import go-easy-chat --from URL [--config FILE] [--batch N]`. */
function parseImport(args: string[]): Invocation {
  const refuse = (message: string) =>
    usage(`easy-chat import: ${message}; see easy-chat import --help`, 2);
  let parsed;
  try {
    parsed = parseArgs({
      args,
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
    return refuse((err as Error).message.split('. ')[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) return usage(IMPORT_HELP);
  const [source, extra] = positionals;
  if (source === undefined) return refuse(`say what to import (${IMPORT_SOURCES.join(', ')})`);
  if (source !== 'go-easy-chat') {
    return refuse(`unknown source '${source}' (known: ${IMPORT_SOURCES.join(', ')})`);
  }
  if (extra !== undefined) return refuse(`unexpected argument '${extra}'`);
  if (values.from === undefined) return refuse('--from mysql://user:pass@host:3306/db is required');
  // The Go system keeps its data in MySQL; any other URL is a mistake to name now,
  // not a driver error later.
  if (!/^(mysql|mariadb):\/\/./i.test(values.from)) {
    return refuse('--from must be a mysql:// (or mariadb://) URL');
  }
  const batch = values.batch === undefined ? 500 : Number(values.batch);
  if (!/^\d+$/.test(values.batch ?? '500') || batch < 1 || batch > 10_000) {
    return refuse(`--batch must be a whole number from 1 to 10000, not '${values.batch}'`);
  }
  return { command: 'import', source, from: values.from, config: values.config, batch };
}

function unknownCommand(name: string): Invocation {
  return usage(`easy-chat: unknown command '${name}'; commands: start, import, help`, 2);
}
