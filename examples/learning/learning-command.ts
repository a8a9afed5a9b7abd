import { parseArgs } from 'node:util';
import { usernameProblem } from './users.js';

/** A parsed learning command line. */
export type LearningCommand =
  | { kind: 'help' }
  | { kind: 'generate'; topic: string; count: number; username: string; level: string | undefined }
  | { kind: 'invalid'; problem: string };

/** The help text. */
export const LEARNING_USAGE = `Usage:
  npm run example:learning -- generate <topic> [--count 3] --user <username> [--level beginner]

Generates multiple-choice questions on <topic> and stores them as a learning session of <username>
(created if new) in DATABASE_URL (default sqlite:./data/app.db).
Configured by Groundwork's environment (OPENAI_API_KEY, LLM_PROVIDER, DATABASE_URL, … or .env).`;

const OPTIONS = {
  count: { type: 'string', default: '3' },
  user: { type: 'string' },
  level: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const parse = (args: readonly string[]) => parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true });

/** Reads `generate <topic> --count N --user NAME`. */
export function parseLearningCommand(args: readonly string[]): LearningCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    return { kind: 'invalid', problem: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [command, topic, ...extra] = positionals;
  if (command !== 'generate') return { kind: 'invalid', problem: `Unknown command "${command ?? ''}"; use generate.` };
  if (extra.length > 0) return { kind: 'invalid', problem: `Unexpected arguments: ${extra.join(' ')} (quote a topic of several words).` };
  if (topic === undefined || topic.trim() === '') return { kind: 'invalid', problem: 'Missing <topic>.' };
  if (values.user === undefined || values.user.trim() === '') return { kind: 'invalid', problem: 'Missing --user.' };
  const userProblem = usernameProblem(values.user.trim());
  if (userProblem !== undefined) return { kind: 'invalid', problem: `--user ${userProblem}.` };
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 20)
    return { kind: 'invalid', problem: `--count must be a whole number from 1 to 20; got "${values.count}".` };
  const level = values.level?.trim();
  if (level === '') return { kind: 'invalid', problem: '--level is blank; leave it out for beginner.' };
  return { kind: 'generate', topic, count, username: values.user.trim(), level };
}
