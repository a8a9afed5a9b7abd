import { createInfrastructure, type Infrastructure } from 'groundwork';
import { type CliIo, type CliRun, consoleIo, EXIT, llmSetupHint, reportError } from '../cli-support.js';
import { translateWord } from './translate-word.js';
import { validateAnswer } from './validate-answer.js';
import { parseVocabularyCommand, VOCABULARY_USAGE, type VocabularyCommand } from './vocabulary-command.js';

/**
 * Runs the vocabulary CLI: `translate <word>` prints translations, examples and word forms;
 * `check <answer>` prints the verdict and whether the LLM or the local check gave it.
 * Resolves with the exit code.
 */
export async function runVocabularyCli({ args, io = consoleIo, infrastructure = {} }: CliRun): Promise<number> {
  const command = parseVocabularyCommand(args);
  if (command.kind === 'help') {
    io.out(VOCABULARY_USAGE);
    return EXIT.ok;
  }
  if (command.kind === 'invalid') {
    io.err(`${command.problem}\n\n${VOCABULARY_USAGE}`);
    return EXIT.usage;
  }
  try {
    const infra = await createInfrastructure({ logDestination: 'stderr', ...infrastructure });
    try {
      // Translation has no local fallback: say what to set before the database is touched.
      if (command.kind === 'translate' && !infra.config.llm.configured) {
        io.err(llmSetupHint(infra.config));
        return EXIT.usage;
      }
      await infra.initDb();
      return command.kind === 'translate' ? await translate(infra, command, io) : await check(infra, command, io);
    } finally {
      await infra.close();
    }
  } catch (error) {
    return reportError(io, error);
  }
}

async function translate(infra: Infrastructure, command: Extract<VocabularyCommand, { kind: 'translate' }>, io: CliIo): Promise<number> {
  const translation = await translateWord(infra, command.word, command.from, command.to);
  io.out(`${translation.word} (${command.from} → ${command.to})`);
  io.out(`  Translations: ${translation.translations.join(', ')}`);
  if (translation.examples.length > 0) io.out('  Examples:');
  for (const example of translation.examples) io.out(`    ${example.source} — ${example.target}`);
  if (translation.wordForms.length > 0) io.out('  Word forms:');
  for (const form of translation.wordForms) io.out(`    ${form.form}: ${form.value}`);
  return EXIT.ok;
}

async function check(infra: Infrastructure, command: Extract<VocabularyCommand, { kind: 'check' }>, io: CliIo): Promise<number> {
  const verdict = await validateAnswer(infra, command.question, command.expected, command.answer, command.from, command.to);
  io.out(`${verdict.isCorrect ? '✓ Correct' : '✗ Incorrect'}: ${verdict.comment}`);
  const judge = verdict.source === 'llm' ? `the LLM (${infra.config.llm.provider}/${infra.config.llm.model})` : 'the local check';
  io.out(`  judged by ${judge}`);
  if (!infra.config.llm.configured) io.err(llmSetupHint(infra.config));
  return EXIT.ok;
}
