import type { FakeAnswer } from './fake-behaviour.js';
import { answerText, resolveUsage, type StreamFrames, splitText, sseFrame, type WireContext, type WireFormat } from './fake-wire.js';

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', content_filter: 'refusal' } as const;

/** The input of a forced tool call, when the request forces a tool and the answer is a JSON object. */
function forcedToolInput(context: WireContext, answer: FakeAnswer): { name: string; input: unknown } | undefined {
  const choice = context.body['tool_choice'] as { type?: string; name?: string } | undefined;
  if (choice?.type !== 'tool' || choice.name === undefined) return undefined;
  if (answer.json !== undefined) return { name: choice.name, input: answer.json };
  try {
    const parsed: unknown = JSON.parse(answerText(answer));
    if (typeof parsed === 'object' && parsed !== null) return { name: choice.name, input: parsed };
  } catch {
    // not JSON: answered as text
  }
  return undefined;
}

function usageOf(context: WireContext, answer: FakeAnswer, text: string): Record<string, number> {
  const usage = resolveUsage(context.body, text, answer.usage);
  return {
    input_tokens: Math.max(0, usage.promptTokens - usage.cachedPromptTokens),
    output_tokens: usage.completionTokens,
    cache_read_input_tokens: usage.cachedPromptTokens,
    cache_creation_input_tokens: 0,
  };
}

function stopReason(answer: FakeAnswer, tool: boolean): string {
  if (tool && (answer.finishReason ?? 'stop') === 'stop') return 'tool_use';
  return STOP_REASONS[answer.finishReason ?? 'stop'];
}

function errorType(status: number, code: string | undefined): string {
  if (code !== undefined) return code;
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    529: 'overloaded_error',
  };
  return types[status] ?? 'api_error';
}

/** Anthropic's messages format, including forced tool use. */
export const anthropicWire: WireFormat = {
  requestIdHeader: 'request-id',

  answerBody(context, answer) {
    const tool = forcedToolInput(context, answer);
    const text = tool === undefined ? answerText(answer) : JSON.stringify(tool.input);
    return {
      id: context.id,
      type: 'message',
      role: 'assistant',
      model: context.model,
      content:
        tool === undefined
          ? [{ type: 'text', text }]
          : [{ type: 'tool_use', id: `toolu_${context.id}`, name: tool.name, input: tool.input }],
      stop_reason: stopReason(answer, tool !== undefined),
      stop_sequence: null,
      usage: usageOf(context, answer, text),
    };
  },

  streamFrames(context, answer): StreamFrames {
    const tool = forcedToolInput(context, answer);
    const text = tool === undefined ? answerText(answer) : JSON.stringify(tool.input);
    const usage = usageOf(context, answer, text);
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
    const block =
      tool === undefined ? { type: 'text', text: '' } : { type: 'tool_use', id: `toolu_${context.id}`, name: tool.name, input: {} };
    const delta = (piece: string): unknown =>
      tool === undefined ? { type: 'text_delta', text: piece } : { type: 'input_json_delta', partial_json: piece };
    return {
      head: [
        sseFrame({ type: 'message_start', message }, 'message_start'),
        sseFrame({ type: 'content_block_start', index: 0, content_block: block }, 'content_block_start'),
      ],
      deltas: splitText(text, answer.chunks ?? 3).map((piece) =>
        sseFrame({ type: 'content_block_delta', index: 0, delta: delta(piece) }, 'content_block_delta'),
      ),
      tail: [
        sseFrame({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
        sseFrame(
          {
            type: 'message_delta',
            delta: { stop_reason: stopReason(answer, tool !== undefined), stop_sequence: null },
            usage: { output_tokens: usage['output_tokens'] },
          },
          'message_delta',
        ),
        sseFrame({ type: 'message_stop' }, 'message_stop'),
      ],
    };
  },

  errorBody(status, code, message) {
    return { type: 'error', error: { type: errorType(status, code), message } };
  },

  malformedFrame() {
    return sseFrame('{"type": "content_block_delta", "delta": {', 'content_block_delta');
  },
};
