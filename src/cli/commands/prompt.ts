import { readFile } from 'node:fs/promises';
import { LLM_PROVIDERS, type LlmProviderName } from '../../config/variables.js';
import { createInfrastructure } from '../../create-infrastructure.js';
import type { LlmClient, LlmResponse } from '../../llm/llm-client-types.js';
import type { ChatMessage } from '../../llm/types.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import type { CommandIo } from '../output.js';
import { prepareDatabase } from './prepare-database.js';

/** What `groundwork prompt` was asked. */
export interface PromptCommandOptions {
  /** The prompt text (the positional argument). */
  text?: string | undefined;
  /** Read the prompt text from this file instead. */
  file?: string | undefined;
  /** A system message. */
  system?: string | undefined;
  /** Print the whole response (content, metadata, usage) as JSON. */
  json?: boolean | undefined;
  provider?: LlmProviderName | undefined;
  model?: string | undefined;
}

/** Hooks for tests: a ready client instead of one built from the environment. */
export interface PromptCommandDeps {
  client?: LlmClient;
}

/**
 * `groundwork prompt "text"`: sends one prompt to the configured provider and prints the answer
 * on stdout, then tokens, cost and latency on stderr (so the answer alone can be piped). With the
 * usage ledger on (`LLM_LEDGER`), readies Groundwork's tables first (see {@link prepareDatabase}); an error logged on the way, such as the
 * usage ledger failing to record the call, is printed on stderr and makes the exit status 1.
 */
export async function promptCommand(options: PromptCommandOptions, io: CommandIo, deps: PromptCommandDeps = {}): Promise<number> {
  let text = options.text;
  if (options.file !== undefined) {
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      io.err(`✘ Cannot read the prompt from ${options.file}: ${fileProblem(error)}`);
      return 1;
    }
  }
  if (text === undefined || text.trim() === '') {
    io.err('Give the prompt as an argument (groundwork prompt "Say hello") or with --file PATH.');
    return 2;
  }
  const messages: ChatMessage[] = [];
  if (options.system !== undefined) messages.push({ role: 'system', content: options.system });
  messages.push({ role: 'user', content: text });
  // Through the facade, so the call takes the same path as an application's: cache, retries, limits, ledger.
  const errors = errorLines(io);
  const infrastructure =
    deps.client === undefined ? await createInfrastructure({ env: io.env, isTty: io.isTty, logger: errors.logger }) : undefined;
  const client = deps.client ?? (infrastructure as NonNullable<typeof infrastructure>).llm;
  try {
    // The database holds only the call's ledger row: without the ledger it is left alone.
    if (infrastructure?.config.llm.ledger.enabled === true) await prepareDatabase(infrastructure);
    const response = await client.complete(
      { messages, ...(options.model === undefined ? {} : { model: options.model }) },
      options.provider === undefined ? {} : { provider: options.provider },
    );
    if (options.json === true) io.out(JSON.stringify(response, null, 2));
    else {
      io.out(response.content);
      io.err(summary(response));
    }
  } finally {
    // Closing writes the call's row to the usage ledger; a failure to write it is logged, so it is seen below.
    await infrastructure?.close();
  }
  return errors.count() === 0 ? 0 : 1;
}

/**
 * A logger that prints each error (such as the usage ledger failing to write the call's row) on
 * stderr as one line, secrets scrubbed, and counts them; quieter levels are not printed.
 */
function errorLines(io: CommandIo): { logger: Logger; count: () => number } {
  let count = 0;
  const logger = createLogger(
    { level: 'error', format: 'json' },
    {
      destination: {
        write(line: string) {
          count++;
          let message = line.trim();
          try {
            message = String((JSON.parse(line) as { msg?: unknown }).msg ?? message);
          } catch {
            // Not JSON: printed as it is.
          }
          io.err(`✘ ${message}`);
        },
      },
    },
  );
  return { logger, count: () => count };
}

/** The command line's flags, checked, then {@link promptCommand}. */
export function promptCommandFromFlags(
  flags: Omit<PromptCommandOptions, 'provider'> & { provider?: string | undefined },
  io: CommandIo,
): Promise<number> {
  const { provider, ...rest } = flags;
  if (provider !== undefined && !(LLM_PROVIDERS as readonly string[]).includes(provider)) {
    io.err(`Unknown provider "${provider}": use ${LLM_PROVIDERS.join(', ')}.`);
    return Promise.resolve(2);
  }
  return promptCommand({ ...rest, provider: provider as LlmProviderName | undefined }, io);
}

function fileProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file.';
  if (code === 'EISDIR') return 'it is a directory.';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied.';
  return (error as Error).message;
}

/** `openai/gpt-4o-mini · 120 tokens (100 in, 20 out) · $0.000027 · 850 ms`. */
export function summary(response: LlmResponse<unknown>): string {
  const { usage, metadata } = response;
  const cached = usage.cachedPromptTokens ? `, ${usage.cachedPromptTokens} cached` : '';
  const parts = [
    `${metadata.provider}/${metadata.model}`,
    `${usage.totalTokens} tokens (${usage.promptTokens} in${cached}, ${usage.completionTokens} out)`,
    `$${usage.costUsd.toFixed(6)}`,
    `${metadata.latencyMs} ms`,
  ];
  if (metadata.cached) parts.push('from cache');
  return `— ${parts.join(' · ')}`;
}
