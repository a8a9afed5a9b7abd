import type { ModelPrice } from '../config/app-config.js';
import { messageText } from '../llm/model/message-text.js';
import type { ChatRequest } from '../llm/types.js';
import { countTokens, encodingFor } from '../resilience/estimate-tokens.js';
import { groupCallTargets } from '../routing/router.js';
import type { ModelGroupConfig } from '../routing/routes-config.js';

/** Tokens each chat message costs beyond its text (role, separators), and the answer's priming: as `estimateTokens`. */
const PER_MESSAGE = 4;
const PER_REPLY = 3;
/** Allowance per non-text part (an image, audio, a file): above what OpenAI and Anthropic bill for one high-detail image. */
export const NON_TEXT_PART_TOKENS = 6_000;

/** The most a call may cost, and the tokens it was priced from. */
export interface CallCostBound {
  /** An upper bound of the prompt's tokens. */
  inputTokens: number;
  /** The most tokens the answer may take, all choices together. */
  outputTokens: number;
  /** `inputTokens` at the input price plus `outputTokens` at the output price, in USD. */
  costUsd: number;
}

/**
 * An upper bound of the prompt tokens of `request`. With the model's own tokenizer (OpenAI's
 * families) text is counted exactly; for any other model each UTF-8 byte is counted as a token,
 * which no byte-level BPE tokenizer exceeds, since each of its tokens covers at least one byte.
 * Tool definitions, tool calls, the tool choice and the answer format (a JSON schema, which
 * providers bill as prompt) are counted as their JSON text, each non-text part (and each image an
 * earlier answer made) as {@link NON_TEXT_PART_TOKENS}, and each message's framing as OpenAI documents it.
 */
export function inputTokenBound(request: Pick<ChatRequest, 'model' | 'messages' | 'tools' | 'toolChoice' | 'responseFormat'>): number {
  const count =
    encodingFor(request.model) === undefined
      ? (text: string) => Buffer.byteLength(text, 'utf8')
      : (text: string) => countTokens(text, request.model);
  let tokens = PER_REPLY;
  for (const message of request.messages) {
    tokens += PER_MESSAGE + count(messageText(message));
    if ('name' in message && typeof message.name === 'string') tokens += count(message.name);
    if (Array.isArray(message.content)) tokens += message.content.filter((part) => part.type !== 'text').length * NON_TEXT_PART_TOKENS;
    if (message.role === 'assistant' && message.toolCalls !== undefined) tokens += count(JSON.stringify(message.toolCalls));
    // An earlier answer's images go back to the model as input too (Gemini's inline data).
    if (message.role === 'assistant' && message.images !== undefined) tokens += message.images.length * NON_TEXT_PART_TOKENS;
    if (message.role === 'tool') tokens += count(message.toolCallId);
  }
  if (request.tools !== undefined && request.tools.length > 0) tokens += count(JSON.stringify(request.tools));
  if (request.toolChoice !== undefined) tokens += count(JSON.stringify(request.toolChoice));
  if (request.responseFormat !== undefined) tokens += count(JSON.stringify(request.responseFormat));
  return tokens;
}

/**
 * The worst-case cost of `request` at `price`: the prompt bound at the full input price (a
 * prompt-cache hit only makes it cheaper) and `maxOutputTokens` for each of the `n` choices at
 * the output price (reasoning tokens are billed as output and count within the same maximum).
 */
export function callCostBound(
  request: Pick<ChatRequest, 'model' | 'messages' | 'tools' | 'toolChoice' | 'responseFormat' | 'n'>,
  price: ModelPrice,
  maxOutputTokens: number,
): CallCostBound {
  const inputTokens = inputTokenBound(request);
  const outputTokens = maxOutputTokens * Math.max(1, request.n ?? 1);
  return { inputTokens, outputTokens, costUsd: (inputTokens * price.input + outputTokens * price.output) / 1_000_000 };
}

/** Where a call may go besides the model it names (see {@link billableModels}). */
export interface CallReach {
  /** The model groups of the routes file (`GROUNDWORK_ROUTES`), by name. */
  groups?: Readonly<Record<string, ModelGroupConfig>> | undefined;
  /** The models the call falls back to when its model is no group (`LLM_FALLBACKS`). */
  fallbackModels: readonly string[];
  /** The call is pinned to its provider and cannot fall back. */
  noFallbacks: boolean;
}

/**
 * The models whose prices may bill a call for `model`, so that a reservation at the worst case
 * over them bounds whatever answers. For a model group: the model of each of its deployments and
 * of its fallback groups' deployments, as the router may reach them (`LLM_FALLBACKS` do not apply
 * to groups, and neither does `noFallbacks`: a group is never pinned to one provider); for any
 * other model, the model and its fallbacks, unless pinned.
 */
export function billableModels(model: string, reach: CallReach): string[] {
  const targets = reach.groups === undefined ? undefined : groupCallTargets(reach.groups, model);
  if (targets !== undefined) return [...new Set(targets.map((target) => target.model))];
  return [...new Set(reach.noFallbacks ? [model] : [model, ...reach.fallbackModels])];
}
