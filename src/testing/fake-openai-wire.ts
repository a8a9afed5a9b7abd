import type { FakeAnswer } from './fake-behaviour.js';
import { type ResolvedChoice, resolveChoices, writtenText } from './fake-choices.js';
import { fakeLogprobs, fakeTokens } from './fake-logprobs.js';
import { resolveUsage, type StreamFrames, splitText, sseFrame, type WireContext, type WireFormat } from './fake-wire.js';

function usageBody(context: WireContext, answer: FakeAnswer, text: string): Record<string, unknown> {
  const usage = resolveUsage(context.body, text, answer.usage);
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** The answer-level fields every body and chunk carries. */
function envelope(context: WireContext, answer: FakeAnswer): Record<string, unknown> {
  const fields: Record<string, unknown> = { id: context.id, created: context.created, model: context.model };
  if (answer.serviceTier !== undefined) fields['service_tier'] = answer.serviceTier;
  if (answer.systemFingerprint !== undefined) fields['system_fingerprint'] = answer.systemFingerprint;
  return fields;
}

function chunk(context: WireContext, answer: FakeAnswer, choices: unknown[], extra: Record<string, unknown> = {}): string {
  const { id, created, model, ...rest } = envelope(context, answer);
  return sseFrame({ id, object: 'chat.completion.chunk', created, model, ...rest, choices, ...extra });
}

/** How many alternatives per token the request asks for. */
function topLogprobs(context: WireContext): number {
  const top = context.body['top_logprobs'];
  return typeof top === 'number' ? top : 0;
}

/** Whether the answer carries log probabilities: as scripted, else as the request asks. */
function wantsLogprobs(answer: FakeAnswer, context: WireContext): boolean {
  return answer.logprobs ?? context.body['logprobs'] === true;
}

function logprobsOf(answer: FakeAnswer, context: WireContext, choice: ResolvedChoice): unknown {
  if (!wantsLogprobs(answer, context)) return null;
  return {
    content: choice.content === null ? null : fakeLogprobs(choice.content, topLogprobs(context)),
    refusal: choice.refusal === undefined ? null : fakeLogprobs(choice.refusal, topLogprobs(context)),
  };
}

function messageOf(choice: ResolvedChoice): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: choice.content, refusal: choice.refusal ?? null };
  if (choice.toolCalls.length > 0) {
    message['tool_calls'] = choice.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  if (choice.reasoning !== undefined) message['reasoning_content'] = choice.reasoning;
  message['annotations'] = [];
  return { ...message, ...choice.messageFields };
}

/** Text split into `count` deltas; on word-like token boundaries when log probabilities go with it. */
function pieces(text: string, count: number, byTokens: boolean): string[] {
  if (!byTokens) return splitText(text, count);
  const tokens = fakeTokens(text);
  const size = Math.max(1, Math.ceil(tokens.length / Math.max(1, count)));
  const result: string[] = [];
  for (let start = 0; start < tokens.length; start += size) result.push(tokens.slice(start, start + size).join(''));
  return result.length === 0 ? [''] : result;
}

/**
 * The delta frames of one choice: reasoning pieces, text (or refusal) pieces, the scripted message
 * fields in one delta, then each tool call: id and name first, then its arguments.
 */
function choiceDeltas(context: WireContext, answer: FakeAnswer, choice: ResolvedChoice): string[] {
  const count = answer.chunks ?? 3;
  const withLogprobs = wantsLogprobs(answer, context);
  const frames: string[] = [];
  const top = topLogprobs(context);
  if (choice.reasoning !== undefined)
    for (const piece of splitText(choice.reasoning, count))
      frames.push(
        chunk(context, answer, [{ index: choice.index, delta: { reasoning_content: piece }, logprobs: null, finish_reason: null }]),
      );
  for (const field of ['content', 'refusal'] as const) {
    const text = field === 'content' ? choice.content : choice.refusal;
    if (text === null || text === undefined || text === '') continue;
    for (const piece of pieces(text, count, withLogprobs)) {
      const logprobs = withLogprobs ? { content: null, refusal: null, [field]: fakeLogprobs(piece, top) } : null;
      frames.push(chunk(context, answer, [{ index: choice.index, delta: { [field]: piece }, logprobs, finish_reason: null }]));
    }
  }
  if (Object.keys(choice.messageFields).length > 0)
    frames.push(chunk(context, answer, [{ index: choice.index, delta: { ...choice.messageFields }, logprobs: null, finish_reason: null }]));
  choice.toolCalls.forEach((call, index) => {
    const head = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    frames.push(chunk(context, answer, [{ index: choice.index, delta: { tool_calls: [head] }, logprobs: null, finish_reason: null }]));
    for (const piece of splitText(call.arguments, count)) {
      if (piece === '') continue;
      const delta = { tool_calls: [{ index, function: { arguments: piece } }] };
      frames.push(chunk(context, answer, [{ index: choice.index, delta, logprobs: null, finish_reason: null }]));
    }
  });
  return frames;
}

/** Azure's opening chunk that holds only the prompt's filter results and names no answer. */
function promptFilterFrame(): string {
  const results = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' } };
  return sseFrame({
    choices: [],
    created: 0,
    id: '',
    model: '',
    object: '',
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: results }],
  });
}

function errorType(status: number, code: string | undefined): string {
  if (code === 'insufficient_quota') return 'insufficient_quota';
  if (status === 401) return 'invalid_request_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * OpenAI's chat completions format (also Azure's and OpenAI-compatible servers'): every choice,
 * tool calls, refusals, log probabilities, `system_fingerprint` and `service_tier` when scripted;
 * streams send usage only in the last chunk, and only when `stream_options.include_usage` asks.
 */
export const openaiWire: WireFormat = {
  requestIdHeader: 'x-request-id',

  answerBody(context, answer) {
    const choices = resolveChoices(answer, context.body, 'call_fake_');
    return {
      ...envelope(context, answer),
      object: 'chat.completion',
      choices: choices.map((choice) => ({
        index: choice.index,
        message: messageOf(choice),
        finish_reason: choice.finishReason,
        logprobs: logprobsOf(answer, context, choice),
      })),
      usage: usageBody(context, answer, writtenText(choices)),
    };
  },

  streamFrames(context, answer): StreamFrames {
    const choices = resolveChoices(answer, context.body, 'call_fake_');
    const wantsUsage = (context.body['stream_options'] as { include_usage?: boolean } | undefined)?.include_usage === true;
    const tail = choices.map((choice) =>
      chunk(context, answer, [{ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finishReason }]),
    );
    if (wantsUsage) tail.push(chunk(context, answer, [], { usage: usageBody(context, answer, writtenText(choices)) }));
    tail.push(sseFrame('[DONE]'));
    const filter = answer.promptFilterChunk === true ? [promptFilterFrame()] : [];
    return {
      head: [
        ...filter,
        ...choices.map((choice) =>
          chunk(context, answer, [
            {
              index: choice.index,
              delta: { role: 'assistant', content: choice.content === null ? null : '', refusal: null },
              logprobs: null,
              finish_reason: null,
            },
          ]),
        ),
      ],
      deltas: choices.flatMap((choice) => choiceDeltas(context, answer, choice)),
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
