import { EventStreamCodec } from '@smithy/eventstream-codec';
import { embeddingDimensions } from '../llm/embeddings/known-embedding-models.js';
import type { FakeAnswer } from './fake-behaviour.js';
import { type ResolvedChoice, resolveChoices, writtenText } from './fake-choices.js';
import { fakeEmbedding } from './fake-embeddings.js';
import { answerText, resolveUsage, type StreamFrames, splitText, type WireContext, type WireFormat } from './fake-wire.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => new Uint8Array(Buffer.from(text, 'utf8')),
);

/** One AWS event-stream message carrying `payload` as the event `type`. */
function eventFrame(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: new Uint8Array(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8')),
  });
}

/** The Bedrock exception for an HTTP status, as its `x-amzn-errortype` names it. */
const EXCEPTIONS: Record<number, string> = {
  400: 'ValidationException',
  401: 'UnrecognizedClientException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  409: 'ConflictException',
  422: 'ValidationException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

function exceptionOf(status: number, code: string | undefined): string {
  if (code === 'insufficient_quota') return 'ServiceQuotaExceededException';
  if (code !== undefined && /^[A-Z][A-Za-z]+Exception$/.test(code)) return code;
  return EXCEPTIONS[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
}

type Block = { text: string } | { reasoning: string } | { toolUse: { toolUseId: string; name: string; input: unknown; json: string } };

function inputOf(argumentsText: string): unknown {
  try {
    return JSON.parse(argumentsText);
  } catch {
    return {};
  }
}

/** The forced tool's input, when the request forces one and the answer is a JSON object (structured output). */
function forcedToolInput(context: WireContext, answer: FakeAnswer): { name: string; input: unknown } | undefined {
  const name = (context.body['toolConfig'] as { toolChoice?: { tool?: { name?: string } } } | undefined)?.toolChoice?.tool?.name;
  if (name === undefined || (answer.toolCalls?.length ?? 0) > 0) return undefined;
  if (answer.json !== undefined) return { name, input: answer.json };
  try {
    const parsed: unknown = JSON.parse(answerText(answer));
    if (typeof parsed === 'object' && parsed !== null) return { name, input: parsed };
  } catch {
    // not JSON: answered as text
  }
  return undefined;
}

function blocksOf(context: WireContext, answer: FakeAnswer, choice: ResolvedChoice): Block[] {
  const forced = forcedToolInput(context, answer);
  if (forced !== undefined) {
    return [
      { toolUse: { toolUseId: `tooluse_${context.id}`, name: forced.name, input: forced.input, json: JSON.stringify(forced.input) } },
    ];
  }
  if (answer.promptBlocked !== undefined) return [{ text: 'Sorry, the model cannot answer this question.' }];
  const blocks: Block[] = [];
  // A reasoning model on Converse (DeepSeek-R1) thinks first, in an unsigned `reasoningContent` block.
  if (choice.reasoning !== undefined) blocks.push({ reasoning: choice.reasoning });
  const text = (choice.content ?? '') + (choice.refusal ?? '');
  if (text !== '' || choice.toolCalls.length === 0) blocks.push({ text });
  for (const call of choice.toolCalls) {
    blocks.push({ toolUse: { toolUseId: call.id, name: call.name, input: inputOf(call.arguments), json: call.arguments } });
  }
  return blocks;
}

function stopReason(answer: FakeAnswer, choice: ResolvedChoice, blocks: readonly Block[]): string {
  if (answer.promptBlocked !== undefined) return 'guardrail_intervened';
  if (choice.finishReason === 'content_filter' || choice.refusal !== undefined) return 'content_filtered';
  if (choice.finishReason === 'length') return 'max_tokens';
  return blocks.some((block) => 'toolUse' in block) ? 'tool_use' : 'end_turn';
}

function usageOf(context: WireContext, answer: FakeAnswer, choice: ResolvedChoice): Record<string, number> {
  const usage = resolveUsage(context.body, writtenText([choice]), answer.usage);
  const input = Math.max(0, usage.promptTokens - usage.cachedPromptTokens - usage.cacheWritePromptTokens);
  return {
    inputTokens: input,
    outputTokens: usage.completionTokens,
    totalTokens: input + usage.cachedPromptTokens + usage.cacheWritePromptTokens + usage.completionTokens,
    cacheReadInputTokens: usage.cachedPromptTokens,
    cacheWriteInputTokens: usage.cacheWritePromptTokens,
  };
}

/**
 * Bedrock's Converse format: scripted reasoning first (an unsigned `reasoningContent` block,
 * streamed as `reasoningContent` text deltas), text and `toolUse` blocks (a forced tool's input for structured
 * output), `stopReason` (`content_filtered` for a scripted refusal, `guardrail_intervened` for a
 * blocked prompt), usage with cache reads and writes, errors as `{ message }` with the exception in
 * `x-amzn-errortype`. ConverseStream answers in AWS event-stream framing: `messageStart`, content
 * block starts, deltas (tool input as JSON text in pieces) and stops, `messageStop`, `metadata`.
 * Only the first choice is answered: Converse has no `n`.
 */
export const bedrockWire: WireFormat = {
  requestIdHeader: 'x-amzn-requestid',
  streamContentType: 'application/vnd.amazon.eventstream',

  answerBody(context, answer) {
    const choice = resolveChoices(answer, {}, 'tooluse_fake_')[0] as ResolvedChoice;
    const blocks = blocksOf(context, answer, choice);
    return {
      output: {
        message: {
          role: 'assistant',
          content: blocks.map((block) => {
            if ('text' in block) return { text: block.text };
            if ('reasoning' in block) return { reasoningContent: { reasoningText: { text: block.reasoning } } };
            return { toolUse: { toolUseId: block.toolUse.toolUseId, name: block.toolUse.name, input: block.toolUse.input } };
          }),
        },
      },
      stopReason: stopReason(answer, choice, blocks),
      usage: usageOf(context, answer, choice),
      metrics: { latencyMs: 12 },
    };
  },

  streamFrames(context, answer): StreamFrames {
    const choice = resolveChoices(answer, {}, 'tooluse_fake_')[0] as ResolvedChoice;
    const blocks = blocksOf(context, answer, choice);
    const deltas: Uint8Array[] = [];
    blocks.forEach((block, index) => {
      if ('toolUse' in block) {
        const { toolUseId, name, json } = block.toolUse;
        deltas.push(eventFrame('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId, name } } }));
        for (const piece of splitText(json, answer.chunks ?? 3)) {
          if (piece !== '')
            deltas.push(eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }));
        }
      } else if ('reasoning' in block) {
        for (const piece of splitText(block.reasoning, answer.chunks ?? 3)) {
          deltas.push(eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text: piece } } }));
        }
      } else {
        for (const piece of splitText(block.text, answer.chunks ?? 3)) {
          deltas.push(eventFrame('contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }));
        }
      }
      deltas.push(eventFrame('contentBlockStop', { contentBlockIndex: index }));
    });
    return {
      head: [eventFrame('messageStart', { role: 'assistant' })],
      deltas,
      tail: [
        eventFrame('messageStop', { stopReason: stopReason(answer, choice, blocks) }),
        eventFrame('metadata', { usage: usageOf(context, answer, choice), metrics: { latencyMs: 12 } }),
      ],
    };
  },

  errorBody(_status, code, message) {
    return { message: code === 'insufficient_quota' ? `You have exceeded the service quota for this model. ${message}` : message };
  },

  errorHeaders(status, code) {
    return { 'x-amzn-errortype': `${exceptionOf(status, code)}:http://internal.amazon.com/coral/com.amazon.bedrock/` };
  },

  malformedFrame() {
    return eventFrame('contentBlockDelta', '{"contentBlockIndex": 0, "delta": {');
  },
};

/**
 * A Bedrock `InvokeModel` embeddings answer: Titan (`{ inputText }` → `{ embedding, inputTextTokenCount }`)
 * or Cohere (`{ texts }` → `{ embeddings, response_type: 'embeddings_floats' }`).
 */
export function fakeBedrockEmbeddingsBody(body: Record<string, unknown>, model: string, behaviour: FakeAnswer): unknown {
  const requested = typeof body['dimensions'] === 'number' ? body['dimensions'] : undefined;
  const dimensions = embeddingDimensions(model, requested) ?? 1024;
  if (Array.isArray(body['texts'])) {
    const texts = body['texts'] as string[];
    return {
      id: `emb_fake_${texts.length}`,
      texts,
      embeddings: texts.map((text) => Array.from(fakeEmbedding(text, dimensions))),
      response_type: 'embeddings_floats',
    };
  }
  const text = typeof body['inputText'] === 'string' ? body['inputText'] : '';
  return {
    embedding: Array.from(fakeEmbedding(text, dimensions)),
    inputTextTokenCount: behaviour.usage?.promptTokens ?? Math.max(1, Math.ceil(text.length / 4)),
  };
}
