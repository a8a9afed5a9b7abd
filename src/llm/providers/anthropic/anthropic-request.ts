import type { ChatRequest } from '../../types.js';
import { withJsonInstructions } from '../structured-instructions.js';
import { modelMaxOutputTokens } from './anthropic-max-tokens.js';
import type { AnthropicParams } from './anthropic-params.js';
import { toAnthropicTools, usesAnswerTool } from './anthropic-prepare-tools.js';
import { thinkingFor } from './anthropic-thinking.js';
import { toAnthropicConversation } from './convert-to-anthropic-messages.js';

/** OpenAI's service tiers Anthropic has a counterpart for. */
export const ANTHROPIC_SERVICE_TIERS: Readonly<Record<string, 'auto' | 'standard_only'>> = { auto: 'auto', default: 'standard_only' };

/** The `max_tokens` a request gets: its own, else the configured default, else the model's maximum. */
export function anthropicMaxTokens(request: ChatRequest, model: string, configuredDefault: number | undefined): number {
  return request.maxTokens ?? configuredDefault ?? modelMaxOutputTokens(model);
}

/**
 * The Messages API body (without `stream`) for a request. System and developer messages become
 * `system`; `stop` → `stop_sequences`; `user` → `metadata.user_id`; `serviceTier` `auto` / `default`
 * → `auto` / `standard_only`; `reasoningEffort` → extended thinking (see `anthropic-thinking.ts`);
 * `temperature` and `topP` as they are; tools as `anthropic-prepare-tools.ts` says. JSON mode, which
 * Anthropic lacks, becomes an instruction in `system`. What cannot be sent is named by
 * {@link anthropicUnsupportedFields}, which the call path checks before this runs.
 */
export function toAnthropicParams(request: ChatRequest, model: string, configuredMaxTokens?: number): AnthropicParams {
  const format = request.responseFormat;
  const messages = usesAnswerTool(request) ? request.messages : withJsonInstructions(request.messages, format);
  const conversation = toAnthropicConversation(messages);
  const maxTokens = anthropicMaxTokens(request, model, configuredMaxTokens);
  const params: AnthropicParams = { model, max_tokens: maxTokens, messages: conversation.messages };
  if (conversation.system !== undefined) params.system = conversation.system;
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) params.stop_sequences = request.stop;
  if (request.user !== undefined) params.metadata = { user_id: request.user };
  const tier = request.serviceTier === undefined ? undefined : ANTHROPIC_SERVICE_TIERS[request.serviceTier];
  if (tier !== undefined) params.service_tier = tier;
  if (request.reasoningEffort !== undefined) {
    const thinking = thinkingFor(request.reasoningEffort, maxTokens);
    if (thinking !== undefined) params.thinking = thinking;
  }
  const { answerTool: _answerTool, ...tools } = toAnthropicTools(request);
  Object.assign(params, tools);
  return params;
}
