import type { ContentBlockParam, MessageParam, TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { messageText } from '../../model/message-text.js';
import type { ChatMessage, ReasoningBlock } from '../../types.js';
import { toAnthropicBlock } from './anthropic-content.js';

/** What Anthropic's Messages API takes for a conversation: one system text and alternating turns. */
export interface AnthropicConversation {
  system: string | undefined;
  messages: MessageParam[];
}

function textBlocks(content: string | Array<{ type: 'text'; text: string }>): TextBlockParam[] {
  const parts = typeof content === 'string' ? [content] : content.map((part) => part.text);
  return parts.filter((text) => text !== '').map((text) => ({ type: 'text', text }));
}

/** A tool call's arguments as the object Anthropic's `tool_use.input` needs; undefined when they are not a JSON object. */
export function toolInput(argumentsText: string): Record<string, unknown> | undefined {
  if (argumentsText.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function blocksOf(message: Exclude<ChatMessage, { role: 'system' | 'developer' }>): ContentBlockParam[] {
  switch (message.role) {
    case 'user':
      if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
      return message.content.flatMap((part) => toAnthropicBlock(part) ?? []);
    case 'assistant': {
      const blocks: ContentBlockParam[] = (message.reasoning ?? []).flatMap((block) => reasoningBlock(block) ?? []);
      const content = message.content;
      if (typeof content === 'string' && content !== '') blocks.push({ type: 'text', text: content });
      if (Array.isArray(content)) {
        for (const part of content) {
          const text = part.type === 'text' ? part.text : part.refusal;
          if (text !== '') blocks.push({ type: 'text', text });
        }
      }
      if (typeof message.refusal === 'string' && message.refusal !== '' && !blocks.some((block) => block.type === 'text'))
        blocks.push({ type: 'text', text: message.refusal });
      for (const call of message.toolCalls ?? [])
        blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) ?? {} });
      return blocks;
    }
    case 'tool': {
      const content = textBlocks(message.content);
      return [
        {
          type: 'tool_result',
          tool_use_id: message.toolCallId,
          ...(content.length === 0 ? {} : { content }),
          ...(message.isError === true ? { is_error: true } : {}),
        },
      ];
    }
  }
}

/**
 * A reasoning block Anthropic made, as the `thinking` or `redacted_thinking` block it was;
 * undefined for another provider's (Anthropic could not check its signature).
 */
function reasoningBlock(block: ReasoningBlock): ContentBlockParam | undefined {
  if (block.provider !== 'anthropic') return undefined;
  if (block.type === 'redacted') return { type: 'redacted_thinking', data: block.data };
  return { type: 'thinking', thinking: block.text, signature: block.signature ?? '' };
}

/**
 * Groundwork's messages as Anthropic's: every system and developer message joins `system`; tool
 * results become `tool_result` blocks of a user turn; an assistant message's own reasoning blocks
 * (signed `thinking`, `redacted_thinking`) lead its turn, as extended thinking requires; consecutive turns of one role (tool results,
 * then the user's next words) merge into one turn, with tool results first as Anthropic requires.
 */
export function toAnthropicConversation(messages: readonly ChatMessage[]): AnthropicConversation {
  const system = messages
    .filter((message) => message.role === 'system' || message.role === 'developer')
    .map((message) => messageText(message))
    .filter((text) => text !== '')
    .join('\n\n');
  const turns: Array<{ role: 'user' | 'assistant'; content: ContentBlockParam[] }> = [];
  for (const message of messages) {
    if (message.role === 'system' || message.role === 'developer') continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = blocksOf(message);
    if (blocks.length === 0) continue;
    const last = turns.at(-1);
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  }
  return {
    system: system === '' ? undefined : system,
    messages: turns.map((turn) => {
      if (turn.role === 'user') turn.content.sort((left, right) => rank(left) - rank(right));
      const only = turn.content[0];
      // A turn of one text block travels as a plain string, the API's simplest form.
      if (turn.content.length === 1 && only?.type === 'text') return { role: turn.role, content: only.text };
      return { role: turn.role, content: turn.content };
    }),
  };
}

/** Tool results lead a user turn; the sort is stable, so everything else keeps its order. */
function rank(block: ContentBlockParam): number {
  return block.type === 'tool_result' ? 0 : 1;
}
