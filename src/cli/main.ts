import { readFileSync } from 'node:fs';
import { booleanField } from '../config/fields.js';
import { asksForHelp, COMMANDS } from './commands.js';
import { describeFailure } from './describe-failure.js';
import { type CommandIo, processIo } from './output.js';

/** `groundwork --help`. */
export function usage(): string {
  return `Usage: groundwork <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((command) => `  ${command.summary}`)
  .join('\n')}

Options:
  -h, --help     show this help; \`groundwork <command> --help\` shows a command's
  -v, --version  print Groundwork's version

Environment variables (and a .env file) configure everything; see the README.`;
}

/** The installed package's version. */
export function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

const debugField = booleanField(false);

/**
 * Whether a failure shows its stack: `DEBUG` as the configuration reads it (`true|1|yes|on`), from
 * the environment or, under it, the `.env` file the commands read. A value the configuration refuses is off.
 */
async function isDebug(io: CommandIo): Promise<boolean> {
  let value = io.env.DEBUG;
  if (value === undefined) {
    try {
      const { ConfigSource } = await import('../config/load-config.js');
      value = new ConfigSource({ env: io.env }).variables().DEBUG;
    } catch {
      // No .env to read it from: off.
    }
  }
  const parsed = debugField(value);
  return parsed.ok && parsed.value;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.out(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    io.out(topic?.usage ?? usage());
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(version());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.err(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  if (asksForHelp(rest)) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const failure = describeFailure(error, command.usage, await isDebug(io));
    io.err(failure.message);
    return failure.status;
  }
}
