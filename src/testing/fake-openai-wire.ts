import type { FakeAnswer } from './fake-behaviour.js';
import { answerText, resolveUsage, type StreamFrames, splitText, sseFrame, type WireContext, type WireFormat } from './fake-wire.js';

function usageBody(context: WireContext, answer: FakeAnswer, text: string): Record<string, unknown> {
  const usage = resolveUsage(context.body, text, answer.usage);
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

function chunk(context: WireContext, choices: unknown[], extra: Record<string, unknown> = {}): string {
  return sseFrame({
    id: context.id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    choices,
    ...extra,
  });
}

function errorType(status: number, code: string | undefined): string {
  if (code === 'insufficient_quota') return 'insufficient_quota';
  if (status === 401) return 'invalid_request_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** OpenAI's chat completions format (also Azure's and OpenAI-compatible servers'). */
export const openaiWire: WireFormat = {
  requestIdHeader: 'x-request-id',

  answerBody(context, answer) {
    const text = answerText(answer);
    return {
      id: context.id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: context.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          finish_reason: answer.finishReason ?? 'stop',
          logprobs: null,
        },
      ],
      usage: usageBody(context, answer, text),
    };
  },

  streamFrames(context, answer): StreamFrames {
    const text = answerText(answer);
    const wantsUsage = (context.body['stream_options'] as { include_usage?: boolean } | undefined)?.include_usage === true;
    const tail = [chunk(context, [{ index: 0, delta: {}, finish_reason: answer.finishReason ?? 'stop' }])];
    if (wantsUsage) tail.push(chunk(context, [], { usage: usageBody(context, answer, text) }));
    tail.push(sseFrame('[DONE]'));
    return {
      head: [chunk(context, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }])],
      deltas: splitText(text, answer.chunks ?? 3).map((piece) =>
        chunk(context, [{ index: 0, delta: { content: piece }, finish_reason: null }]),
      ),
      tail,
    };
  },

  errorBody(status, code, message) {
    const body: Record<string, unknown> = { message, type: errorType(status, code), param: null, code: code ?? null };
    if (code === 'content_filter') {
      body['innererror'] = { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: true, severity: 'high' } } };
    }
    return { error: body };
  },

  malformedFrame() {
    return sseFrame('{"id": "chatcmpl-broken", "choices": [');
  },
};
