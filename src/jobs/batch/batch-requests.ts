import type { PromptContext } from '../../llm/prompt.js';
import type { ChatRequest } from '../../llm/types.js';
import { validateRequest } from '../../llm/validate-request.js';
import type { AnyPrompt } from '../job-types.js';

/** The most items one batch takes: OpenAI's and Azure's limit per input file (Anthropic takes 100,000). */
export const MAX_BATCH_ITEMS = 50_000;

/** The custom id of item `index` on the wire (Anthropic allows only `[A-Za-z0-9_-]{1,64}`). */
export function customIdOf(index: number): string {
  return `item-${index}`;
}

/** The index an item's custom id stands for; undefined for an id Groundwork did not send. */
export function indexOfCustomId(customId: string): number | undefined {
  const match = /^item-(\d+)$/.exec(customId);
  return match === null ? undefined : Number(match[1]);
}

/**
 * The chat request of one item, built as `executePrompt` builds it (the prompt's messages,
 * temperature, output maximum, response format and tool choice), and checked the same way.
 */
export function batchRequestOf(
  prompt: AnyPrompt,
  context: PromptContext<string, string>,
  model: string,
  maxOutputTokens: number | undefined,
): ChatRequest {
  const request: ChatRequest = { model, messages: prompt.render(context) };
  if (prompt.temperature !== undefined) request.temperature = prompt.temperature;
  const maxTokens = prompt.maxTokens ?? maxOutputTokens;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  if (prompt.responseFormat !== undefined) request.responseFormat = prompt.responseFormat;
  if (prompt.toolChoice !== undefined) request.toolChoice = prompt.toolChoice;
  validateRequest(request);
  return request;
}
