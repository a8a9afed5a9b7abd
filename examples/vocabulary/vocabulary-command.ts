import { parseArgs } from 'node:util';

/** A parsed vocabulary command line. */
export type VocabularyCommand =
  | { kind: 'help' }
  | { kind: 'translate'; word: string; from: string; to: string }
  | { kind: 'check'; answer: string; expected: string; question: string; from: string; to: string }
  | { kind: 'invalid'; problem: string };

/** The help text. */
export const VOCABULARY_USAGE = `Usage:
  npm run example:vocabulary -- translate <word> [--from English] --to <language>
  npm run example:vocabulary -- check <answer> --expected <answer> --question <word> [--from English] --to <language>

Configured by Groundwork's environment (OPENAI_API_KEY, LLM_PROVIDER, … or .env).
Without an LLM, "check" still answers, with a local comparison.`;

const OPTIONS = {
  from: { type: 'string', default: 'English' },
  to: { type: 'string' },
  expected: { type: 'string' },
  question: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const parse = (args: readonly string[]) => parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true });

/** Reads `translate <word> --to …` or `check <answer> --expected … --question … --to …`. */
export function parseVocabularyCommand(args: readonly string[]): VocabularyCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    return { kind: 'invalid', problem: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  const [command, text, ...extra] = positionals;
  if (command !== 'translate' && command !== 'check')
    return { kind: 'invalid', problem: `Unknown command "${command ?? ''}"; use translate or check.` };
  if (extra.length > 0) return { kind: 'invalid', problem: `Unexpected arguments: ${extra.join(' ')} (quote a phrase).` };
  const required: Record<string, string | undefined> = {
    [command === 'translate' ? '<word>' : '<answer>']: text,
    '--from': values.from,
    '--to': values.to,
    ...(command === 'check' ? { '--expected': values.expected, '--question': values.question } : {}),
  };
  // A blank value (`--to ""`) is as missing as an absent one: the model would be asked about nothing.
  const missing = Object.entries(required)
    .filter(([, value]) => value === undefined || value.trim() === '')
    .map(([name]) => name);
  if (missing.length > 0) return { kind: 'invalid', problem: `Missing ${missing.join(', ')}.` };
  const to = values.to ?? '';
  if (command === 'translate') return { kind: 'translate', word: text ?? '', from: values.from, to };
  return { kind: 'check', answer: text ?? '', expected: values.expected ?? '', question: values.question ?? '', from: values.from, to };
}
