import { createHash } from 'node:crypto';
import type { FakeAnswer } from './fake-behaviour.js';
import { type ResolvedChoice, resolveChoices, writtenText } from './fake-choices.js';
import { answerText, resolveUsage, type StreamFrames, splitText, sseFrame, type WireContext, type WireFormat } from './fake-wire.js';

/** One content block of an answer, with its text as it is streamed. */
type Block =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown; json: string };

/** The fake's signature over a thinking text, which it checks when the block comes back. */
function signatureOf(thinking: string): string {
  return `fake-sig-${createHash('sha256').update(thinking).digest('base64')}`;
}

/** Whether the request turns extended thinking on. */
function thinks(body: Record<string, unknown>): boolean {
  return (body['thinking'] as { type?: unknown } | undefined)?.type === 'enabled';
}

/**
 * Anthropic's rules for thinking blocks sent back: with thinking on, the last assistant turn that
 * calls a tool starts with a `thinking` or `redacted_thinking` block, and a thinking block's
 * signature is the one the fake gave it.
 */
function invalidThinking(body: Record<string, unknown>): string | undefined {
  const messages = Array.isArray(body['messages']) ? (body['messages'] as Array<{ role?: unknown; content?: unknown }>) : [];
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) continue;
    for (const [position, block] of (message.content as Array<{ type?: unknown; thinking?: unknown; signature?: unknown }>).entries()) {
      if (block.type === 'thinking' && block.signature !== signatureOf(String(block.thinking ?? '')))
        return `messages.${index}.content.${position}: Invalid \`signature\` in \`thinking\` block`;
    }
  }
  if (!thinks(body)) return undefined;
  const index = messages.findLastIndex((message) => message.role === 'assistant');
  const last = messages[index];
  const blocks = Array.isArray(last?.content) ? (last.content as Array<{ type?: unknown }>) : [];
  if (!blocks.some((block) => block.type === 'tool_use')) return undefined;
  const first = blocks[0]?.type;
  if (first === 'thinking' || first === 'redacted_thinking') return undefined;
  return (
    `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first)}\`. ` +
    'When `thinking` is enabled, a final `assistant` message must start with a thinking block ' +
    '(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. ' +
    'To avoid this requirement, disable `thinking`.'
  );
}

/** The input of a forced tool call, when the request forces a tool and the answer is a JSON object. */
function forcedToolInput(context: WireContext, answer: FakeAnswer): { name: string; input: unknown } | undefined {
  const choice = context.body['tool_choice'] as { type?: string; name?: string } | undefined;
  if (choice?.type !== 'tool' || choice.name === undefined || (answer.toolCalls?.length ?? 0) > 0) return undefined;
  if (answer.json !== undefined) return { name: choice.name, input: answer.json };
  try {
    const parsed: unknown = JSON.parse(answerText(answer));
    if (typeof parsed === 'object' && parsed !== null) return { name: choice.name, input: parsed };
  } catch {
    // not JSON: answered as text
  }
  return undefined;
}

function inputOf(argumentsText: string): unknown {
  try {
    return JSON.parse(argumentsText);
  } catch {
    return {};
  }
}

/**
 * The content blocks of the first choice: signed thinking when the request turns it on, text (a
 * refusal's too), then tool calls; or the forced tool's call.
 */
function blocksOf(context: WireContext, answer: FakeAnswer, choice: ResolvedChoice): Block[] {
  const forced = forcedToolInput(context, answer);
  if (forced !== undefined) {
    return [{ type: 'tool_use', id: `toolu_${context.id}`, name: forced.name, input: forced.input, json: JSON.stringify(forced.input) }];
  }
  const blocks: Block[] = [];
  if (thinks(context.body)) {
    const thinking = answer.thinking ?? 'Let me think this through.';
    blocks.push({ type: 'thinking', thinking, signature: signatureOf(thinking) });
  }
  const text = (choice.content ?? '') + (choice.refusal ?? '');
  if (text !== '' || choice.toolCalls.length === 0) blocks.push({ type: 'text', text });
  for (const call of choice.toolCalls)
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: inputOf(call.arguments), json: call.arguments });
  return blocks;
}

function usageOf(context: WireContext, answer: FakeAnswer, text: string): Record<string, unknown> {
  const usage = resolveUsage(context.body, text, answer.usage);
  const fields: Record<string, unknown> = {
    input_tokens: Math.max(0, usage.promptTokens - usage.cachedPromptTokens - usage.cacheWritePromptTokens),
    output_tokens: usage.completionTokens,
    cache_read_input_tokens: usage.cachedPromptTokens,
    cache_creation_input_tokens: usage.cacheWritePromptTokens,
  };
  if (answer.serviceTier !== undefined) fields['service_tier'] = answer.serviceTier;
  return fields;
}

function stopReason(choice: ResolvedChoice, blocks: readonly Block[]): string {
  if (choice.finishReason === 'content_filter' || choice.refusal !== undefined) return 'refusal';
  if (choice.finishReason === 'length') return 'max_tokens';
  return blocks.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn';
}

function errorType(status: number, code: string | undefined): string {
  if (code !== undefined) return code;
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    402: 'billing_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    504: 'timeout_error',
    529: 'overloaded_error',
  };
  return types[status] ?? 'api_error';
}

function startBlock(block: Block): unknown {
  if (block.type === 'thinking') return { type: 'thinking', thinking: '', signature: '' };
  return block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
}

/** A block as the whole answer carries it. */
function wholeBlock(block: Block): unknown {
  if (block.type === 'tool_use') return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  return block;
}

function blockDeltas(block: Block, index: number, chunks: number): string[] {
  if (block.type === 'thinking') {
    const frame = (delta: unknown): string => sseFrame({ type: 'content_block_delta', index, delta }, 'content_block_delta');
    return [
      ...splitText(block.thinking, chunks).map((piece) => frame({ type: 'thinking_delta', thinking: piece })),
      frame({ type: 'signature_delta', signature: block.signature }),
    ];
  }
  const text = block.type === 'text' ? block.text : block.json;
  return splitText(text, chunks)
    .filter((piece) => piece !== '' || block.type === 'text')
    .map((piece) =>
      sseFrame(
        {
          type: 'content_block_delta',
          index,
          delta: block.type === 'text' ? { type: 'text_delta', text: piece } : { type: 'input_json_delta', partial_json: piece },
        },
        'content_block_delta',
      ),
    );
}

/**
 * Anthropic's messages format: text, `tool_use` blocks (streamed as `input_json_delta`s), forced
 * tool use for structured output, refusals as `stop_reason: refusal` with the text, cache reads
 * and writes in usage, and with thinking on a signed `thinking` block first (streamed as
 * `thinking_delta`s and a `signature_delta`), whose return it checks as Anthropic does. Only the
 * first choice is answered: the Messages API has no `n`.
 */
export const anthropicWire: WireFormat = {
  requestIdHeader: 'request-id',

  answerBody(context, answer) {
    const choice = resolveChoices(answer, context.body, 'toolu_fake_')[0] as ResolvedChoice;
    const blocks = blocksOf(context, answer, choice);
    return {
      id: context.id,
      type: 'message',
      role: 'assistant',
      model: context.model,
      content: blocks.map(wholeBlock),
      stop_reason: stopReason(choice, blocks),
      stop_sequence: null,
      usage: usageOf(context, answer, writtenText([choice])),
    };
  },

  streamFrames(context, answer): StreamFrames {
    const choice = resolveChoices(answer, context.body, 'toolu_fake_')[0] as ResolvedChoice;
    const blocks = blocksOf(context, answer, choice);
    const usage = usageOf(context, answer, writtenText([choice]));
    const message = {
      id: context.id,
      type: 'message',
      role: 'assistant',
      model: context.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    };
    const start = (index: number): string =>
      sseFrame({ type: 'content_block_start', index, content_block: startBlock(blocks[index] as Block) }, 'content_block_start');
    const stop = (index: number): string => sseFrame({ type: 'content_block_stop', index }, 'content_block_stop');
    const deltas: string[] = [];
    blocks.forEach((block, index) => {
      if (index > 0) deltas.push(stop(index - 1), start(index));
      deltas.push(...blockDeltas(block, index, answer.chunks ?? 3));
    });
    return {
      head: [sseFrame({ type: 'message_start', message }, 'message_start'), start(0)],
      deltas,
      tail: [
        stop(blocks.length - 1),
        sseFrame(
          {
            type: 'message_delta',
            delta: { stop_reason: stopReason(choice, blocks), stop_sequence: null },
            usage: { output_tokens: usage['output_tokens'] },
          },
          'message_delta',
        ),
        sseFrame({ type: 'message_stop' }, 'message_stop'),
      ],
    };
  },

  invalidRequest(body) {
    return invalidThinking(body);
  },

  errorBody(status, code, message) {
    return { type: 'error', error: { type: errorType(status, code), message } };
  },

  malformedFrame() {
    return sseFrame('{"type": "content_block_delta", "delta": {', 'content_block_delta');
  },
};
