import { createInfrastructure } from 'groundwork';
import { type CliIo, type CliRun, consoleIo, EXIT, llmSetupHint, reportError } from '../cli-support.js';
import { LEARNING_USAGE, parseLearningCommand } from './learning-command.js';
import type { LearningSession } from './learning-sessions.js';
import { learningMigrations } from './migrations.js';
import { startLearningSession } from './start-learning-session.js';
import type { LearningTables } from './tables.js';

/**
 * Runs the learning CLI: `generate <topic> --count N --user NAME` generates questions, stores
 * them as a learning session and prints them. Resolves with the exit code.
 */
export async function runLearningCli({ args, io = consoleIo, infrastructure = {} }: CliRun): Promise<number> {
  const command = parseLearningCommand(args);
  if (command.kind === 'help') {
    io.out(LEARNING_USAGE);
    return EXIT.ok;
  }
  if (command.kind === 'invalid') {
    io.err(`${command.problem}\n\n${LEARNING_USAGE}`);
    return EXIT.usage;
  }
  try {
    const infra = await createInfrastructure<LearningTables>({
      migrations: learningMigrations,
      logDestination: 'stderr',
      ...infrastructure,
    });
    try {
      if (!infra.config.llm.configured) {
        io.err(llmSetupHint(infra.config));
        return EXIT.usage;
      }
      await infra.initDb();
      const stored = await startLearningSession(infra, {
        username: command.username,
        topic: command.topic,
        count: command.count,
        ...(command.level === undefined ? {} : { level: command.level }),
      });
      printSession(io, stored, infra.config.database.displayUrl);
      return EXIT.ok;
    } finally {
      await infra.close();
    }
  } catch (error) {
    return reportError(io, error);
  }
}

const LETTERS = 'abcdef';

function printSession(io: CliIo, stored: LearningSession, database: string): void {
  const { session, user, questions } = stored;
  io.out(
    `Learning session ${session.id} for ${user.username} on "${session.topic}": ${questions.length} ${questions.length === 1 ? 'question' : 'questions'}, stored in ${database}`,
  );
  for (const [index, question] of questions.entries()) {
    io.out('');
    io.out(`${index + 1}. ${question.question}`);
    for (const [optionIndex, option] of question.options.entries()) {
      io.out(`   ${LETTERS[optionIndex] ?? '?'}) ${option}${optionIndex === question.correctIndex ? '  ✓' : ''}`);
    }
    io.out(`   Why: ${question.explanation}`);
  }
}
