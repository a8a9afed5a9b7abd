import { type AppConfig, GroundworkError, type InfrastructureOptions } from 'groundwork';

/** Where a CLI writes: the terminal, or a buffer in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

/** How a CLI is run: its arguments, where it writes, and how Groundwork is configured. */
export interface CliRun {
  args: readonly string[];
  io?: CliIo;
  /** Passed to `createInfrastructure`; by default the process environment and `.env`. */
  infrastructure?: InfrastructureOptions;
}

/** The terminal. */
export const consoleIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes: 0 done, 1 the operation failed, 2 the command line or configuration is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Exactly which variables turn the configured provider on. */
export function llmSetupHint(config: AppConfig): string {
  const lines = ['No LLM is configured. Set, in the environment or in .env:'];
  switch (config.llm.provider) {
    case 'openai':
      lines.push('  OPENAI_API_KEY=sk-…            (and optionally OPENAI_MODEL, default gpt-4o-mini)');
      lines.push('or choose another provider: LLM_PROVIDER=anthropic with ANTHROPIC_API_KEY,');
      lines.push('  LLM_PROVIDER=azure with AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT,');
      lines.push('  LLM_PROVIDER=openai-compatible with OPENAI_BASE_URL (e.g. a local model server).');
      break;
    case 'azure':
      lines.push('  AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT');
      break;
    case 'anthropic':
      lines.push('  ANTHROPIC_API_KEY=sk-ant-…     (and optionally ANTHROPIC_MODEL)');
      break;
    case 'openai-compatible':
      lines.push('  OPENAI_BASE_URL=http://127.0.0.1:11434/v1   (and OPENAI_MODEL, OPENAI_API_KEY if the server wants them)');
      break;
  }
  return lines.join('\n');
}

/** Prints a failure the way a user can act on: Groundwork's messages already say what to do. */
export function reportError(io: CliIo, error: unknown): number {
  if (GroundworkError.isInstance(error)) {
    io.err(error.code === 'config_invalid' ? error.message : `Error (${error.code}): ${error.message}`);
    return error.code === 'config_invalid' ? EXIT.usage : EXIT.failed;
  }
  io.err(`Error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.failed;
}
