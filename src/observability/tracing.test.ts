import { type Span, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderServerError } from '../errors/provider-errors.js';
import { completionOf } from '../llm/model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent } from '../llm/types.js';
import { registerMemoryTracer } from './memory-tracer.test-helpers.js';
import { GEN_AI, traceLlmCall, traceLlmStream, traceTransaction } from './tracing.js';

const request: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'the secret plan' }],
  temperature: 0,
  maxTokens: 64,
};
const completion: ChatCompletion = completionOf({
  provider: 'openai',
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { content: 'the answer text' }, finishReason: 'stop' }],
  usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17 },
  requestId: 'req_123',
  id: 'chatcmpl-123',
});

const register = registerMemoryTracer;

afterEach(() => {
  trace.disable();
});

describe('traceLlmCall', () => {
  it('costs nothing but a non-recording span when no tracer provider is registered', async () => {
    let seen: Span | undefined;
    const result = await traceLlmCall({ provider: 'openai', request }, async (span) => {
      seen = span;
      return completion;
    });
    expect(result).toBe(completion);
    expect(seen?.isRecording()).toBe(false);
  });

  it('records the GenAI request and response attributes without any text by default', async () => {
    const provider = register();
    await traceLlmCall({ provider: 'azure', request }, async () => completion);
    const span = provider.spans[0];
    expect(span?.name).toBe('chat gpt-4o-mini');
    expect(span?.options.kind).toBe(2); // SpanKind.CLIENT
    expect(span?.ended).toBe(true);
    expect(span?.attributes).toMatchObject({
      [GEN_AI.operationName]: 'chat',
      [GEN_AI.providerName]: 'azure.ai.openai',
      [GEN_AI.requestModel]: 'gpt-4o-mini',
      [GEN_AI.requestTemperature]: 0,
      [GEN_AI.requestMaxTokens]: 64,
      [GEN_AI.responseModel]: 'gpt-4o-mini-2024-07-18',
      [GEN_AI.responseId]: 'chatcmpl-123',
      'groundwork.llm.request_id': 'req_123',
      [GEN_AI.responseFinishReasons]: ['stop'],
      [GEN_AI.usageInputTokens]: 12,
      [GEN_AI.usageOutputTokens]: 5,
    });
    expect(JSON.stringify(span?.attributes)).not.toMatch(/secret plan|answer text/);
  });

  it('records the finish reason of every choice of an answer with several', async () => {
    const provider = register();
    const choices = completionOf({
      provider: 'openai',
      model: 'gpt-4o-mini',
      choices: [
        { index: 0, message: { content: 'one' }, finishReason: 'stop' },
        { index: 1, message: { content: 'two, cut' }, finishReason: 'length' },
      ],
      usage: { promptTokens: 12, completionTokens: 9, totalTokens: 21 },
    });
    await traceLlmCall({ provider: 'openai', request: { ...request, n: 2 } }, async () => choices);
    expect(provider.spans[0]?.attributes[GEN_AI.responseFinishReasons]).toEqual(['stop', 'length']);
  });

  it('puts the prompt and the answer into the span only with logContent', async () => {
    const provider = register();
    await traceLlmCall({ provider: 'openai', request, logContent: true }, async () => completion);
    const attributes = provider.spans[0]?.attributes ?? {};
    expect(JSON.parse(String(attributes[GEN_AI.inputMessages]))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'the secret plan' }] },
    ]);
    expect(String(attributes[GEN_AI.outputMessages])).toContain('the answer text');
  });

  it('marks a failed call with error.type from the error code and rethrows it', async () => {
    const provider = register();
    const failure = new ProviderServerError('upstream broke', { provider: 'openai', model: 'gpt-4o-mini', status: 503 });
    await expect(
      traceLlmCall({ provider: 'openai', request }, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    const span = provider.spans[0];
    expect(span?.attributes[GEN_AI.errorType]).toBe('provider_server_error');
    expect(span?.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(span?.exceptions).toHaveLength(1);
    expect(span?.ended).toBe(true);
  });

  it('makes the call span the active span inside the call', async () => {
    register();
    let active: Span | undefined;
    await traceLlmCall({ provider: 'openai', request }, async (span) => {
      active = trace.getActiveSpan();
      expect(active === undefined || active === span).toBe(true);
      return completion;
    });
  });
});

describe('traceLlmStream', () => {
  it('keeps the span open until the stream ends and records the final answer', async () => {
    const provider = register();
    async function* events(): AsyncGenerator<ChatStreamEvent> {
      yield { type: 'delta', text: 'the answer ' };
      expect(provider.spans[0]?.ended).toBe(false);
      yield { type: 'delta', text: 'text' };
      yield { type: 'done', completion };
    }
    const seen: ChatStreamEvent[] = [];
    for await (const event of traceLlmStream({ provider: 'anthropic', request }, () => events())) seen.push(event);
    expect(seen).toHaveLength(3);
    const span = provider.spans[0];
    expect(span?.ended).toBe(true);
    expect(span?.attributes[GEN_AI.usageOutputTokens]).toBe(5);
    expect(span?.attributes[GEN_AI.providerName]).toBe('anthropic');
  });

  it('ends the span when the consumer stops early', async () => {
    const provider = register();
    async function* events(): AsyncGenerator<ChatStreamEvent> {
      yield { type: 'delta', text: 'a' };
      yield { type: 'delta', text: 'b' };
    }
    for await (const _event of traceLlmStream({ provider: 'openai', request }, () => events())) break;
    expect(provider.spans[0]?.ended).toBe(true);
  });
});

describe('traceTransaction', () => {
  it('records commit and rollback', async () => {
    const provider = register();
    expect(await traceTransaction({ system: 'sqlite' }, async () => 42)).toBe(42);
    await expect(
      traceTransaction({ system: 'postgresql' }, async () => {
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    ).rejects.toThrow('duplicate key');
    expect(provider.spans.map((span) => span.attributes['groundwork.db.transaction.outcome'])).toEqual(['commit', 'rollback']);
    expect(provider.spans[0]?.attributes['db.system.name']).toBe('sqlite');
    expect(provider.spans[1]?.attributes[GEN_AI.errorType]).toBe('23505');
  });
});
