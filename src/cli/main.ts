import { parseArgs } from 'node:util';
import { LLM_PROVIDERS, type LlmProviderName } from '../config/variables.js';
import { ConfigError, formatConfigIssue } from '../errors/config-error.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import { configCommand } from './commands/config.js';
import { doctorCommand } from './commands/doctor.js';
import { migrateCommand } from './commands/migrate.js';
import { promptCommand } from './commands/prompt.js';
import { serveCommand } from './commands/serve.js';
import { type CommandIo, processIo } from './output.js';

const USAGE = `Usage: groundwork <command> [options]

Commands:
  doctor [--json]              check configuration and every dependency; exit 1 if a required one fails
  serve                        run the HTTP service (health, metrics, OpenAI-compatible API) on PORT until SIGTERM/SIGINT
  config [--markdown]          print the resolved configuration (secrets redacted), or the variable table
  migrate [up|down|status]     apply pending migrations (default), revert the latest, or list them [--json]
  prompt "text" | --file PATH  send one prompt; print the answer, then tokens, cost and latency [--system TEXT] [--json]

Environment variables (and a .env file) configure everything; see the README.`;

type Command = (argv: string[], io: CommandIo) => Promise<number>;

/** The command table: each entry parses its own flags and calls the facade. */
export const COMMANDS: Record<string, Command> = {
  serve: async (argv, io) => {
    parseArgs({ args: argv, options: {}, strict: true });
    return serveCommand(io);
  },
  doctor: async (argv, io) => {
    const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true });
    return doctorCommand({ json: values.json }, io);
  },
  migrate: async (argv, io) => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    const action = positionals[0] ?? 'up';
    if (action !== 'up' && action !== 'down' && action !== 'status') {
      io.err(`Unknown migrate action "${action}": use up, down or status.`);
      return 2;
    }
    return migrateCommand({ action, json: values.json }, io);
  },
  prompt: async (argv, io) => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        file: { type: 'string' },
        system: { type: 'string' },
        json: { type: 'boolean', default: false },
        provider: { type: 'string' },
        model: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const provider = values.provider;
    if (provider !== undefined && !(LLM_PROVIDERS as readonly string[]).includes(provider)) {
      io.err(`Unknown provider "${provider}": use ${LLM_PROVIDERS.join(', ')}.`);
      return 2;
    }
    return promptCommand(
      {
        text: positionals.join(' ') || undefined,
        file: values.file,
        system: values.system,
        json: values.json,
        provider: provider as LlmProviderName | undefined,
        model: values.model,
      },
      io,
    );
  },
  config: async (argv, io) => {
    const { values } = parseArgs({ args: argv, options: { markdown: { type: 'boolean', default: false } }, strict: true });
    return configCommand({ markdown: values.markdown }, io);
  },
};

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`Unknown command "${name}".\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`Configuration is invalid:\n${error.issues.map((issue) => `  ✘ ${formatConfigIssue(issue)}`).join('\n')}`);
      return 1;
    }
    if (GroundworkError.isInstance(error)) {
      io.err(`✘ ${error.message}`);
      return 1;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`✘ ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
