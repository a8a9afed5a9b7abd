import { embeddingDimensions } from '../llm/embeddings/known-embedding-models.js';
import type { FakeAnswer } from './fake-behaviour.js';
import { type ResolvedChoice, resolveChoices, writtenText } from './fake-choices.js';
import { fakeEmbedding } from './fake-embeddings.js';
import { resolveUsage, type StreamFrames, splitText, sseFrame, type WireContext, type WireFormat } from './fake-wire.js';

/** Google's canonical status names, by HTTP status. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function argsOf(argumentsText: string): unknown {
  try {
    return JSON.parse(argumentsText);
  } catch {
    return {};
  }
}

function finishReason(choice: ResolvedChoice): string {
  if (choice.finishReason === 'content_filter' || choice.refusal !== undefined) return 'SAFETY';
  if (choice.finishReason === 'length') return 'MAX_TOKENS';
  return 'STOP';
}

/** The candidate's text: its content, or (Gemini has no refusal field) the refusal's words, stopped by a safety filter. */
function textOf(choice: ResolvedChoice): string {
  return (choice.content ?? '') + (choice.refusal ?? '');
}

function usageOf(context: WireContext, answer: FakeAnswer, choices: readonly ResolvedChoice[]): Record<string, number> {
  const usage = resolveUsage(
    { messages: context.body['contents'], system: context.body['systemInstruction'] },
    writtenText(choices),
    answer.usage,
  );
  return {
    promptTokenCount: usage.promptTokens,
    candidatesTokenCount: usage.completionTokens,
    totalTokenCount: usage.promptTokens + usage.completionTokens + usage.reasoningTokens,
    cachedContentTokenCount: usage.cachedPromptTokens,
    thoughtsTokenCount: usage.reasoningTokens,
  };
}

/** Whether the model signs its function calls and wants the signatures back (Gemini 3). */
function signsCalls(model: string): boolean {
  return /^gemini-3/.test(model);
}

/** A choice's `functionCall` parts; on Gemini 3 the first of a step carries a `thoughtSignature`, as Gemini sends it. */
function callParts(context: WireContext, choice: ResolvedChoice): unknown[] {
  return choice.toolCalls.map((call, position) => ({
    functionCall: { name: call.name, args: argsOf(call.arguments) },
    ...(position === 0 && signsCalls(context.model) ? { thoughtSignature: `fake-thought-${context.id}-${choice.index}` } : {}),
  }));
}

/**
 * Gemini 3's rule: in the current turn (the model turns after the last user text), the first
 * `functionCall` part of each model turn comes back with its `thoughtSignature`.
 */
function missingSignature(body: Record<string, unknown>, model: string): string | undefined {
  if (!signsCalls(model)) return undefined;
  type WirePart = { text?: unknown; functionCall?: { name?: unknown }; thoughtSignature?: unknown };
  const contents = Array.isArray(body['contents']) ? (body['contents'] as Array<{ role?: unknown; parts?: WirePart[] }>) : [];
  const start = contents.findLastIndex(
    (content) => content.role === 'user' && (content.parts ?? []).some((part) => part.text !== undefined),
  );
  for (const [index, content] of contents.entries()) {
    if (index <= start || content.role !== 'model') continue;
    const parts = content.parts ?? [];
    const position = parts.findIndex((part) => part.functionCall !== undefined);
    const first = parts[position];
    if (first !== undefined && (typeof first.thoughtSignature !== 'string' || first.thoughtSignature === '')) {
      return (
        'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, ' +
        `and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${String(first.functionCall?.name)}\` , ` +
        `position ${index + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`
      );
    }
  }
  return undefined;
}

function envelope(context: WireContext): Record<string, unknown> {
  return { modelVersion: context.model, responseId: context.id };
}

/** The choice's thoughts as a `thought` part, when it has some and the request asks for them (`thinkingConfig.includeThoughts`). */
function thoughtParts(context: WireContext, choice: ResolvedChoice): unknown[] {
  const config = context.body['generationConfig'] as { thinkingConfig?: { includeThoughts?: unknown } } | undefined;
  if (choice.reasoning === undefined || config?.thinkingConfig?.includeThoughts !== true) return [];
  return [{ text: choice.reasoning, thought: true }];
}

/** The choice's scripted text signature as a part's `thoughtSignature` member, or none. */
function textSigned(choice: ResolvedChoice): Record<string, unknown> {
  return choice.textSignature === undefined ? {} : { thoughtSignature: choice.textSignature };
}

/** The choice's images as `inlineData` parts, as Gemini's image models send them, each with its scripted `thoughtSignature`. */
function imageParts(choice: ResolvedChoice): unknown[] {
  return choice.images.map((image) => ({
    inlineData: { mimeType: image.mediaType, data: image.data },
    ...(image.signature === undefined ? {} : { thoughtSignature: image.signature }),
  }));
}

/** The request's `candidateCount` as the `n` the shared choice logic reads. */
function candidates(context: WireContext): Record<string, unknown> {
  return { n: (context.body['generationConfig'] as { candidateCount?: unknown } | undefined)?.candidateCount };
}

function blocked(context: WireContext, answer: FakeAnswer): Record<string, unknown> {
  return { promptFeedback: { blockReason: answer.promptBlocked }, usageMetadata: usageOf(context, answer, []), ...envelope(context) };
}

/**
 * Gemini's `generateContent` format (the Gemini API's and Vertex AI's): candidates of text and
 * whole `functionCall` parts (Gemini does not split arguments), scripted thinking as `thought`
 * parts when the request asks for them (`includeThoughts`; streamed in pieces), scripted images as `inlineData` parts
 * after the text (with their scripted `thoughtSignature`), a scripted text signature on the text part
 * (streamed, on the last, empty, text part), `finishReason` `STOP`,
 * `MAX_TOKENS` or `SAFETY` (a scripted refusal is its words stopped by `SAFETY`), usage with
 * cached and thinking tokens, Gemini 3's `thoughtSignature` on the first function call of an
 * answer (a request whose current turn repeats a call without it is a 400, as at Gemini), a blocked
 * prompt as `promptFeedback.blockReason` with no candidates, and errors as
 * `{ error: { code, message, status, details } }` with `RetryInfo` for a wait; every 429 says to
 * check the plan and billing, as Google's do, and names the violated quota in a `QuotaFailure`
 * (per minute for a rate limit, per day for a spent quota).
 * Streams (`:streamGenerateContent?alt=sse`) are server-sent events of partial answers, the last
 * with the finish reason and usage.
 */
export const geminiWire: WireFormat = {
  requestIdHeader: 'x-request-id',

  answerBody(context, answer) {
    if (answer.promptBlocked !== undefined) return blocked(context, answer);
    const choices = resolveChoices(answer, candidates(context), 'call_fake_');
    return {
      candidates: choices.map((choice) => {
        const parts: unknown[] = thoughtParts(context, choice);
        if (textOf(choice) !== '' || (choice.toolCalls.length === 0 && choice.images.length === 0))
          parts.push({ text: textOf(choice), ...textSigned(choice) });
        parts.push(...imageParts(choice), ...callParts(context, choice));
        return { content: { role: 'model', parts }, finishReason: finishReason(choice), index: choice.index };
      }),
      usageMetadata: usageOf(context, answer, choices),
      ...envelope(context),
    };
  },

  streamFrames(context, answer): StreamFrames {
    if (answer.promptBlocked !== undefined) return { head: [], deltas: [], tail: [sseFrame(blocked(context, answer))] };
    const choices = resolveChoices(answer, candidates(context), 'call_fake_');
    const frame = (choice: ResolvedChoice, parts: unknown[], extra: Record<string, unknown> = {}): string =>
      sseFrame({ candidates: [{ content: { role: 'model', parts }, index: choice.index, ...extra }], ...envelope(context) });
    const deltas: string[] = [];
    for (const choice of choices) {
      // Gemini streams its thoughts in pieces, as it thinks, before the text.
      for (const thought of thoughtParts(context, choice) as Array<{ text: string; thought: true }>)
        for (const piece of splitText(thought.text, answer.chunks ?? 3)) deltas.push(frame(choice, [{ ...thought, text: piece }]));
      const text = textOf(choice);
      if (text !== '') for (const piece of splitText(text, answer.chunks ?? 3)) deltas.push(frame(choice, [{ text: piece }]));
      for (const part of imageParts(choice)) deltas.push(frame(choice, [part]));
      for (const part of callParts(context, choice)) deltas.push(frame(choice, [part]));
    }
    const tail = choices.map((choice, position) =>
      sseFrame({
        candidates: [
          {
            content: { role: 'model', parts: [{ text: '', ...textSigned(choice) }] },
            finishReason: finishReason(choice),
            index: choice.index,
          },
        ],
        ...(position === choices.length - 1 ? { usageMetadata: usageOf(context, answer, choices) } : {}),
        ...envelope(context),
      }),
    );
    return { head: [], deltas, tail };
  },

  invalidRequest(body, model) {
    return missingSignature(body, model);
  },

  errorBody(status, code, message, retryAfterMs) {
    const quota = code === 'insufficient_quota' || code === 'billing';
    const details: unknown[] = [];
    // Google words every 429 alike, per-minute limits included; only the violated quota's id tells them apart.
    if (status === 429 || quota)
      details.push({
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: quota ? 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' : 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
            quotaValue: quota ? '250' : '10',
          },
        ],
      });
    if (retryAfterMs !== undefined)
      details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterMs / 1000}s` });
    if (code === 'API_KEY_INVALID')
      details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' });
    return {
      error: {
        code: status,
        message:
          status === 429 || quota ? `You exceeded your current quota, please check your plan and billing details. ${message}` : message,
        status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
        ...(details.length === 0 ? {} : { details }),
      },
    };
  },

  malformedFrame() {
    return sseFrame('{"candidates": [{"content": {');
  },
};

/** The texts of a Gemini embeddings request: `:batchEmbedContents`' requests, or Vertex AI `:predict`'s instances. */
function embeddingTexts(body: Record<string, unknown>): string[] {
  const textOfContent = (content: unknown): string =>
    ((content as { parts?: Array<{ text?: string }> } | undefined)?.parts ?? []).map((part) => part.text ?? '').join('');
  if (Array.isArray(body['requests']))
    return (body['requests'] as Array<{ content?: unknown }>).map((request) => textOfContent(request.content));
  if (Array.isArray(body['instances']))
    return (body['instances'] as Array<{ content?: unknown }>).map((instance) => String(instance.content ?? ''));
  if (body['content'] !== undefined) return [textOfContent(body['content'])];
  return [];
}

/**
 * A Gemini embeddings answer: `:batchEmbedContents` → `{ embeddings: [{ values }] }` (no token
 * counts, as the Gemini API sends none), Vertex AI `:predict` → `{ predictions: [{ embeddings: { values, statistics } }] }`.
 */
export function fakeGeminiEmbeddingsBody(body: Record<string, unknown>, model: string, method: string): unknown {
  const texts = embeddingTexts(body);
  const requested =
    (body['requests'] as Array<{ outputDimensionality?: number }> | undefined)?.[0]?.outputDimensionality ??
    (body['parameters'] as { outputDimensionality?: number } | undefined)?.outputDimensionality ??
    (body['outputDimensionality'] as number | undefined);
  const dimensions = embeddingDimensions(model, requested) ?? 768;
  const vectors = texts.map((text) => Array.from(fakeEmbedding(text, dimensions)));
  if (method === 'predict') {
    return {
      predictions: vectors.map((values, index) => ({
        embeddings: { values, statistics: { token_count: Math.max(1, Math.ceil((texts[index] ?? '').length / 4)), truncated: false } },
      })),
    };
  }
  if (method === 'embedContent') return { embedding: { values: vectors[0] ?? [] } };
  return { embeddings: vectors.map((values) => ({ values })) };
}
