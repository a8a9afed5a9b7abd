import type { Message } from '@anthropic-ai/sdk/resources/messages';
import type { CompletionBase } from '../../model/completion-of.js';
import type { AnswerMessage, ReasoningBlock, ToolCall } from '../../types.js';
import { mapAnthropicUsage } from './anthropic-usage.js';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.js';

/** The parts of an Anthropic answer, gathered from its content blocks (whole, or streamed). */
export interface AnthropicAnswerParts {
  text: string;
  /** The structured-output tool's input, as JSON text, when the model called it. */
  answer: string | undefined;
  toolCalls: ToolCall[];
  /** Extended thinking, kept apart from the answer's text. */
  thinking: string;
  /** The `thinking` and `redacted_thinking` blocks, signatures included, in order, to send back in the next turn. */
  reasoning: ReasoningBlock[];
}

/** Empty answer parts, to gather into. */
export function emptyAnswerParts(): AnthropicAnswerParts {
  return { text: '', answer: undefined, toolCalls: [], thinking: '', reasoning: [] };
}

/**
 * The answer message: the text (or the structured answer, when the answer tool was called), the
 * other tool calls, and extended thinking as `passthrough.reasoning_content` (the name
 * OpenAI-compatible servers use), never as content; its blocks, signed, as `reasoning`.
 */
export function answerMessage(parts: AnthropicAnswerParts): AnswerMessage {
  const content = parts.answer ?? parts.text;
  const message: AnswerMessage = { content: content === '' && parts.toolCalls.length > 0 ? null : content };
  if (parts.toolCalls.length > 0) message.toolCalls = parts.toolCalls;
  if (parts.thinking !== '') message.passthrough = { reasoning_content: parts.thinking };
  if (parts.reasoning.length > 0) message.reasoning = parts.reasoning;
  return message;
}

/** A whole Anthropic message as a completion base (everything but provider, request id and headers). */
export function mapAnthropicMessage(
  message: Message,
  fallbackModel: string,
  answerTool: string | undefined,
): Omit<CompletionBase, 'provider'> {
  const parts = emptyAnswerParts();
  for (const block of message.content) {
    if (block.type === 'text') parts.text += block.text;
    else if (block.type === 'thinking') {
      parts.thinking += block.thinking;
      parts.reasoning.push(thinkingBlock(block.thinking, block.signature));
    } else if (block.type === 'redacted_thinking') parts.reasoning.push({ type: 'redacted', provider: 'anthropic', data: block.data });
    else if (block.type === 'tool_use' && block.name === answerTool && parts.answer === undefined)
      parts.answer = JSON.stringify(block.input);
    else if (block.type === 'tool_use')
      parts.toolCalls.push({ id: block.id, type: 'function', name: block.name, arguments: JSON.stringify(block.input ?? {}) });
  }
  const onlyAnswer = parts.answer !== undefined && parts.toolCalls.length === 0;
  const base: Omit<CompletionBase, 'provider'> = {
    model: typeof message.model === 'string' && message.model !== '' ? message.model : fallbackModel,
    choices: [{ index: 0, message: answerMessage(parts), finishReason: mapAnthropicStopReason(message.stop_reason, onlyAnswer) }],
    usage: mapAnthropicUsage(message.usage),
  };
  if (typeof message.id === 'string' && message.id !== '') base.id = message.id;
  const tier = message.usage?.service_tier;
  if (typeof tier === 'string') base.serviceTier = tier;
  return base;
}

/** A `thinking` block as a reasoning block; an empty signature is none. */
export function thinkingBlock(text: string, signature: string | undefined): ReasoningBlock {
  return signature === undefined || signature === ''
    ? { type: 'thinking', provider: 'anthropic', text }
    : { type: 'thinking', provider: 'anthropic', text, signature };
}
