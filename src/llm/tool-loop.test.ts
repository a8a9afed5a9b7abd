import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { GroundworkMetrics } from '../observability/metrics.js';
import { createResiliencePipeline } from '../resilience/create-resilience-pipeline.js';
import { DeadlineExceededError } from '../resilience/errors.js';
import { createLlmClient } from './create-llm-client.js';
import { capturingLogger, rejection, testConfig } from './llm.test-helpers.js';
import { LlmRefusalError, LlmRequestError } from './llm-errors.js';
import { completionOf } from './model/completion-of.js';
import { definePrompt } from './prompt.js';
import { PromptRegistry } from './prompt-registry.js';
import { defineTool } from './tools/tool.js';
import type { ChatCompletion, ChatMessage, ChatRequest, ChatStreamEvent, LlmProvider, ToolCall } from './types.js';
import { UnsupportedFieldsError } from './unsupported-fields-error.js';
import type { UsageRecord } from './usage-record.js';

/** A provider double that answers from a script and keeps every request it was sent. */
class ScriptedProvider implements LlmProvider {
  readonly name = 'openai' as const;
  readonly defaultModel = 'gpt-4o-mini';
  readonly requests: ChatRequest[] = [];
  readonly #answers: Array<(request: ChatRequest) => ChatCompletion>;
  unsupported: string[] = [];
  /** Name {@link unsupported} through a promise that settles on a later turn of the event loop, as a provider that looks them up would. */
  unsupportedLater = false;

  constructor(answers: Array<(request: ChatRequest) => ChatCompletion>) {
    this.#answers = answers;
  }

  unsupportedFields(): string[] | Promise<string[]> {
    if (!this.unsupportedLater) return this.unsupported;
    return new Promise((resolve) => setImmediate(() => resolve(this.unsupported)));
  }

  async complete(request: ChatRequest): Promise<ChatCompletion> {
    this.requests.push(request);
    const next = this.#answers.shift();
    if (next === undefined) throw new Error('the script has no more answers');
    return next(request);
  }

  async *stream(request: ChatRequest): AsyncGenerator<ChatStreamEvent> {
    const completion = await this.complete(request);
    if (completion.content !== '') yield { type: 'delta', text: completion.content };
    for (const [index, call] of (completion.toolCalls ?? []).entries()) {
      yield { type: 'tool-call-delta', index, id: call.id, name: call.name, arguments: '' };
      yield { type: 'tool-call-delta', index, arguments: call.arguments };
    }
    yield { type: 'done', completion };
  }

  async ping(): Promise<void> {}
}

const usage = { promptTokens: 10, completionTokens: 5, totalTokens: 15 };

function toolCalls(...calls: Array<[string, string, unknown]>): () => ChatCompletion {
  const list: ToolCall[] = calls.map(([id, name, args]) => ({
    id,
    type: 'function',
    name,
    arguments: typeof args === 'string' ? args : JSON.stringify(args),
  }));
  return () =>
    completionOf({
      provider: 'openai',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { content: null, toolCalls: list }, finishReason: 'tool_calls' }],
      usage,
    });
}

function text(content: string): () => ChatCompletion {
  return () =>
    completionOf({ provider: 'openai', model: 'gpt-4o-mini', choices: [{ index: 0, message: { content }, finishReason: 'stop' }], usage });
}

function refusal(words: string): () => ChatCompletion {
  return () =>
    completionOf({
      provider: 'openai',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { content: null, refusal: words }, finishReason: 'content_filter' }],
      usage,
    });
}

function setup(provider: ScriptedProvider, env: Record<string, string> = {}) {
  const rows: UsageRecord[] = [];
  const { logger, lines } = capturingLogger();
  const metrics = new GroundworkMetrics();
  const client = createLlmClient(testConfig({ OPENAI_API_KEY: 'sk-test', LLM_LEDGER_BATCH_SIZE: '1', ...env }), {
    logger,
    metrics,
    providers: { openai: provider },
    usageSink: { writeBatch: async (batch) => void rows.push(...batch) },
  });
  return { client, rows, lines, metrics };
}

const weather = defineTool({
  description: 'The weather in a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, celsius: city === 'Oslo' ? 3 : 21 }),
});

describe('the tool loop', () => {
  it('runs the calls in parallel, sends results back, and sums usage and cost over every step, each in the ledger', async () => {
    const provider = new ScriptedProvider([
      toolCalls(['call_1', 'weather', { city: 'Oslo' }], ['call_2', 'weather', { city: 'Rome' }]),
      text('Oslo is 3 °C, Rome 21 °C.'),
    ]);
    const { client, rows } = setup(provider);
    const response = await client.complete({ messages: [{ role: 'user', content: 'Weather in Oslo and Rome?' }] }, { tools: { weather } });
    expect(response.content).toBe('Oslo is 3 °C, Rome 21 °C.');
    expect(response.metadata.steps).toBe(2);
    expect(response.usage.totalTokens).toBe(30);
    const second = provider.requests[1]!;
    expect(second.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, toolCalls: expect.any(Array) },
      { role: 'tool', toolCallId: 'call_1', content: JSON.stringify({ city: 'Oslo', celsius: 3 }) },
      { role: 'tool', toolCallId: 'call_2', content: JSON.stringify({ city: 'Rome', celsius: 21 }) },
    ]);
    expect(second.tools?.[0]).toMatchObject({ type: 'function', name: 'weather', description: 'The weather in a city.' });
    expect(second.tools?.[0]?.parameters).toMatchObject({ type: 'object', properties: { city: { type: 'string' } } });
    await client.close();
    expect(rows.map((row) => [row.outcome, row.totalTokens])).toEqual([
      ['continued', 15],
      ['success', 15],
    ]);
  });

  it('repeats the images a turn made, with their signatures, and a compatible server’s reasoning details in the next turn', async () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K' }, signature: 'sig-img' };
    const details = [{ type: 'reasoning.encrypted', data: 'opaque', index: 0 }];
    const calling = toolCalls(['call_1', 'weather', { city: 'Oslo' }]);
    const provider = new ScriptedProvider([
      () => {
        const completion = calling();
        const message = completion.choices[0]!.message;
        message.content = 'A map of Oslo.';
        message.passthrough = { images: [image], reasoning_details: details };
        return completionOf({ ...completion, choices: [{ index: 0, message, finishReason: 'tool_calls' }] });
      },
      text('Oslo is 3 °C.'),
    ]);
    const { client } = setup(provider);
    await client.complete({ messages: [{ role: 'user', content: 'Map and weather of Oslo?' }] }, { tools: { weather } });
    expect(provider.requests[1]?.messages[1]).toEqual({
      role: 'assistant',
      content: 'A map of Oslo.',
      toolCalls: [expect.objectContaining({ id: 'call_1', name: 'weather' })],
      images: [{ type: 'image', url: 'data:image/png;base64,iVBORw0K', signature: 'sig-img' }],
      reasoningDetails: details,
    });
    await client.close();
  });

  it('sends invalid arguments, an unknown tool and a throwing tool back to the model as tool errors', async () => {
    const failing = defineTool({
      parameters: z.object({}),
      execute: () => {
        throw new Error('the dictionary is offline');
      },
    });
    const provider = new ScriptedProvider([
      toolCalls(['a', 'weather', { town: 'Oslo' }], ['b', 'nope', {}], ['c', 'failing', {}], ['d', 'weather', '{not json']),
      text('Sorry.'),
    ]);
    const { client } = setup(provider);
    const response = await client.complete({ messages: [{ role: 'user', content: 'Go' }] }, { tools: { weather, failing } });
    expect(response.content).toBe('Sorry.');
    const results = provider.requests[1]!.messages.filter((message) => message.role === 'tool');
    expect(results.every((message) => message.role === 'tool' && message.isError === true)).toBe(true);
    const texts = results.map((message) => (JSON.parse(String(message.content)) as { error: string }).error);
    expect(texts[0]).toContain('city');
    expect(texts[1]).toContain('no tool named "nope"');
    expect(texts[2]).toContain('the dictionary is offline');
    expect(texts[3]).toContain('not valid JSON');
    await client.close();
  });

  it('fails the call, naming the tool, when a tool that ran returns what JSON cannot hold, rather than telling the model it failed', async () => {
    let orders = 0;
    const order = defineTool({
      parameters: z.object({}),
      execute: () => ({ id: BigInt(++orders) }),
    });
    const provider = new ScriptedProvider([toolCalls(['a', 'order', {}]), toolCalls(['b', 'order', {}]), text('Ordered.')]);
    const { client } = setup(provider);
    const error = await rejection(client.complete({ messages: [{ role: 'user', content: 'Order one' }] }, { tools: { order } }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/tool "order" ran, but returned a value JSON cannot hold .*BigInt/);
    expect(orders).toBe(1);
    expect(provider.requests).toHaveLength(1);
    await client.close();
  });

  it('records the answered turns and the failed one when a later turn fails', async () => {
    const provider = new ScriptedProvider([toolCalls(['call_1', 'weather', { city: 'Oslo' }])]);
    const { client, rows } = setup(provider);
    await rejection(client.complete({ messages: [{ role: 'user', content: 'Oslo?' }] }, { tools: { weather } }));
    await client.close();
    expect(rows.map((row) => [row.outcome, row.totalTokens])).toEqual([
      ['continued', 15],
      ['error', 0],
    ]);
  });

  it('stops at maxSteps and returns the unrun tool calls', async () => {
    const provider = new ScriptedProvider([toolCalls(['a', 'weather', { city: 'Oslo' }]), toolCalls(['b', 'weather', { city: 'Oslo' }])]);
    const { client } = setup(provider);
    const response = await client.complete({ messages: [{ role: 'user', content: 'Loop' }] }, { tools: { weather }, maxSteps: 2 });
    expect(provider.requests).toHaveLength(2);
    expect(response.metadata.finishReason).toBe('tool_calls');
    expect(response.toolCalls).toEqual([{ id: 'b', type: 'function', name: 'weather', arguments: '{"city":"Oslo"}' }]);
    await client.close();
  });

  it('returns tool calls of tools without execute to the caller', async () => {
    const provider = new ScriptedProvider([toolCalls(['a', 'lookup', { word: 'cat' }])]);
    const { client } = setup(provider);
    const lookup = defineTool({ parameters: z.object({ word: z.string() }) });
    const response = await client.complete({ messages: [{ role: 'user', content: 'cat?' }] }, { tools: { lookup } });
    expect(provider.requests).toHaveLength(1);
    expect(response.toolCalls?.[0]?.name).toBe('lookup');
    await client.close();
  });

  it('streams tool-call deltas and tool results as they happen, then the next turn', async () => {
    const provider = new ScriptedProvider([toolCalls(['call_1', 'weather', { city: 'Oslo' }]), text('3 °C.')]);
    const { client, metrics } = setup(provider);
    const events: string[] = [];
    for await (const event of client.stream({ messages: [{ role: 'user', content: 'Oslo?' }] }, { tools: { weather } })) {
      if (event.type === 'tool-call-delta') events.push(`call:${event.name ?? ''}:${event.arguments}`);
      else if (event.type === 'tool-result') events.push(`result:${JSON.stringify(event.result)}`);
      else if (event.type === 'delta') events.push(`text:${event.text}`);
      else if (event.type === 'done') events.push(`done:${event.response.metadata.steps}`);
    }
    expect(events).toEqual(['call:weather:', 'call::{"city":"Oslo"}', 'result:{"city":"Oslo","celsius":3}', 'text:3 °C.', 'done:2']);
    // One first chunk per turn; the chunks after it are timed apart.
    const firstChunks = (await metrics.llmTimeToFirstChunk.get()).values.find((value) => value.metricName?.endsWith('_count'));
    const laterChunks = (await metrics.llmTimePerOutputChunk.get()).values.find((value) => value.metricName?.endsWith('_count'));
    expect(firstChunks?.value).toBe(2);
    expect(laterChunks?.value).toBe(3);
    await client.close();
  });

  it('refuses a maxSteps below 1', async () => {
    const { client } = setup(new ScriptedProvider([]));
    const error = await rejection(client.complete({ messages: [{ role: 'user', content: 'x' }] }, { tools: { weather }, maxSteps: 0 }));
    expect(error).toBeInstanceOf(LlmRequestError);
    await client.close();
  });
});

/** A tool that sleeps `ms` on the timers and never looks at its signal. */
function sleepy(ms: number) {
  return defineTool({
    parameters: z.object({}),
    execute: () => new Promise<string>((resolve) => setTimeout(() => resolve('awake'), ms)),
  });
}

/** `promise`'s outcome, kept as it settles, to see whether it has. */
function watch(promise: Promise<unknown>): { settled: boolean; error: unknown } {
  const seen: { settled: boolean; error: unknown } = { settled: false, error: undefined };
  promise.then(
    () => {
      seen.settled = true;
    },
    (error: unknown) => {
      seen.settled = true;
      seen.error = error;
    },
  );
  return seen;
}

describe('a tool that ignores its signal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not hold the call once the caller aborts: it fails at once with the reason, and the tool runs on to its end unheard', async () => {
    vi.useFakeTimers();
    const provider = new ScriptedProvider([toolCalls(['a', 'slow', {}]), text('done')]);
    const { client, rows } = setup(provider);
    const controller = new AbortController();
    const call = watch(
      client.complete({ messages: [{ role: 'user', content: 'x' }] }, { tools: { slow: sleepy(1500) }, signal: controller.signal }),
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(call.settled).toBe(false);
    controller.abort(new Error('the user cancelled'));
    await vi.advanceTimersByTimeAsync(0);
    expect(call.settled).toBe(true);
    expect((call.error as Error).message).toBe('the user cancelled');
    await vi.advanceTimersByTimeAsync(1500);
    expect(provider.requests).toHaveLength(1);
    await client.close();
    expect(rows.map((row) => row.outcome)).toEqual(['continued', 'cancelled']);
  });

  it('does not hold the call past its deadline, which it names in words, with the time the call had run', async () => {
    vi.useFakeTimers();
    const provider = new ScriptedProvider([toolCalls(['a', 'slow', {}]), text('done')]);
    const { client } = setup(provider, { LLM_DEADLINE_MS: '200' });
    const call = watch(client.complete({ messages: [{ role: 'user', content: 'x' }] }, { tools: { slow: sleepy(1500) } }));
    await vi.advanceTimersByTimeAsync(199);
    expect(call.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.settled).toBe(true);
    const error = call.error as DeadlineExceededError;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error.elapsedMs).toBe(200);
    expect(error.message).toBe(
      "The call's deadline of 200 ms (LLM_DEADLINE_MS) passed while a tool was still running after 200 ms; " +
        'the call was given up. Try again later or raise the deadline.',
    );
    await vi.advanceTimersByTimeAsync(1500);
    expect(provider.requests).toHaveLength(1);
    await client.close();
  });
});

describe('a tool loop’s deadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('names the call’s whole deadline, and the time since the call began, when it passes while a later turn streams', async () => {
    vi.useFakeTimers();
    /** Its second turn starts its answer, then goes quiet until the call gives it up. */
    class QuietSecondTurn extends ScriptedProvider {
      override async *stream(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatStreamEvent> {
        if (this.requests.length === 0) {
          yield* super.stream(request);
          return;
        }
        this.requests.push(request);
        yield { type: 'delta', text: 'Once' };
        await new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
    }
    const provider = new QuietSecondTurn([toolCalls(['a', 'slow', {}])]);
    const { client } = setup(provider, { LLM_DEADLINE_MS: '200' });
    const read = (async () => {
      for await (const _event of client.stream({ messages: [{ role: 'user', content: 'x' }] }, { tools: { slow: sleepy(150) } })) {
      }
    })();
    const call = watch(read);
    await vi.advanceTimersByTimeAsync(199);
    expect(provider.requests).toHaveLength(2);
    expect(call.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.settled).toBe(true);
    const error = call.error as DeadlineExceededError;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect([error.deadlineMs, error.elapsedMs]).toEqual([200, 200]);
    expect(error.message).toBe(
      "The call's deadline of 200 ms (LLM_DEADLINE_MS) passed while the answer was streaming after 200 ms; " +
        'the call was given up. Try again later or raise the deadline.',
    );
    await client.close();
  });
});

describe('a tool loop’s deadline, whole answers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('names the call’s whole deadline, and the time since the call began, when it passes while a later turn is awaited', async () => {
    vi.useFakeTimers();
    /** Its second turn never answers until the call gives it up. */
    class QuietSecondTurn extends ScriptedProvider {
      override async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatCompletion> {
        if (this.requests.length === 0) return super.complete(request);
        this.requests.push(request);
        return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
    }
    const provider = new QuietSecondTurn([toolCalls(['a', 'slow', {}])]);
    const config = testConfig({ OPENAI_API_KEY: 'sk-test', LLM_DEADLINE_MS: '200' });
    const { logger } = capturingLogger();
    const metrics = new GroundworkMetrics();
    const pipeline = createResiliencePipeline(config.resilience, { logger, metrics });
    const client = createLlmClient(config, { logger, metrics, pipeline, providers: { openai: provider } });
    const call = watch(client.complete({ messages: [{ role: 'user', content: 'x' }] }, { tools: { slow: sleepy(150) } }));
    await vi.advanceTimersByTimeAsync(199);
    expect(provider.requests).toHaveLength(2);
    expect(call.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.settled).toBe(true);
    const error = call.error as DeadlineExceededError;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect([error.deadlineMs, error.elapsedMs]).toEqual([200, 200]);
    await client.close();
    await pipeline.close();
  });
});

describe('refusals', () => {
  it('are answers for a call without a schema', async () => {
    const { client } = setup(new ScriptedProvider([refusal('I can’t help with that.')]));
    const response = await client.complete({ messages: [{ role: 'user', content: 'x' }] });
    expect(response.refusal).toBe('I can’t help with that.');
    expect(response.metadata.finishReason).toBe('content_filter');
    await client.close();
  });

  it('throw a typed error carrying the model’s words for a schema prompt, without repairs', async () => {
    const provider = new ScriptedProvider([refusal('No.')]);
    const { client } = setup(provider);
    const prompt = definePrompt(
      { name: 'refused', version: 1, template: 'x', schema: z.object({ a: z.string() }) },
      { registry: new PromptRegistry() },
    );
    const error = await rejection(client.executePrompt(prompt, {}));
    expect(error).toBeInstanceOf(LlmRefusalError);
    expect((error as LlmRefusalError).refusal).toBe('No.');
    expect(JSON.stringify(error)).not.toContain('No.');
    expect(provider.requests).toHaveLength(1);
    await client.close();
  });
});

describe('fields a provider cannot honour', () => {
  it('refuse the call naming the field and the provider, before anything is sent', async () => {
    const provider = new ScriptedProvider([text('never')]);
    provider.unsupported = ['logit_bias'];
    const { client } = setup(provider);
    const error = await rejection(client.complete({ messages: [{ role: 'user', content: 'x' }], logitBias: { '42': 10 } }));
    expect(error).toBeInstanceOf(UnsupportedFieldsError);
    expect(error.message).toContain('"logit_bias"');
    expect(error.message).toContain('"openai"');
    expect(provider.requests).toHaveLength(0);
    await client.close();
  });

  it('are dropped, logged and counted with LLM_DROP_UNSUPPORTED_PARAMS=true', async () => {
    const provider = new ScriptedProvider([text('ok')]);
    provider.unsupported = ['logit_bias', 'modalities'];
    const { client, lines, metrics } = setup(provider, { LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
    await client.complete({
      messages: [{ role: 'user', content: 'x' }],
      logitBias: { '42': 10 },
      passthrough: { modalities: ['text'], prediction: { type: 'content', content: 'x' } },
    });
    expect(provider.requests[0]?.logitBias).toBeUndefined();
    expect(provider.requests[0]?.passthrough).toEqual({ prediction: { type: 'content', content: 'x' } });
    expect(lines.join('\n')).toContain('Dropped logit_bias, modalities');
    const counted = await metrics.droppedParams.get();
    expect(counted.values.map((value) => [value.labels['field'], value.value])).toEqual([
      ['logit_bias', 1],
      ['modalities', 1],
    ]);
    await client.close();
  });

  it.each([
    ['tool_choice', { toolChoice: 'none' }],
    ['tool_choice', { toolChoice: 'required' }],
    ['tool_choice', { toolChoice: { type: 'function', name: 'weather' } }],
    ['parallel_tool_calls', { parallelToolCalls: false }],
  ] as const)('never drop %s when it restricts the model, even with the drop policy', async (field, restriction) => {
    const provider = new ScriptedProvider([text('never')]);
    provider.unsupported = [field];
    const { client, metrics } = setup(provider, { LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
    const error = await rejection(
      client.complete({
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', name: 'weather' }],
        ...restriction,
      }),
    );
    expect(error).toBeInstanceOf(UnsupportedFieldsError);
    expect((error as UnsupportedFieldsError).fields).toEqual([field]);
    expect(error.message).toContain('restriction');
    expect(provider.requests).toHaveLength(0);
    expect((await metrics.droppedParams.get()).values).toEqual([]);
    await client.close();
  });

  it('never drop message content, even with the drop policy', async () => {
    const provider = new ScriptedProvider([text('never')]);
    provider.unsupported = ['messages[0].content[0]'];
    const { client } = setup(provider, { LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
    const error = await rejection(
      client.complete({ messages: [{ role: 'user', content: [{ type: 'audio', data: 'AAAA', format: 'wav' }] }] }),
    );
    expect(error).toBeInstanceOf(UnsupportedFieldsError);
    expect(error.message).toContain('messages[0].content[0]');
    expect(provider.requests).toHaveLength(0);
    await client.close();
  });

  describe('an earlier answer’s images the provider cannot take back', () => {
    const dot = { type: 'image', url: 'data:image/png;base64,iVBORw0K' } as const;
    const conversation = (): ChatMessage[] => [
      { role: 'user', content: 'Draw a dot.' },
      { role: 'assistant', content: 'A dot.', images: [dot] },
      { role: 'user', content: 'And another.' },
      { role: 'assistant', content: 'Another.', images: [dot] },
      { role: 'user', content: 'What did you draw?' },
    ];

    it('are refused by default, naming them and how to drop them', async () => {
      const provider = new ScriptedProvider([text('never')]);
      provider.unsupported = ['messages[1].images'];
      const { client } = setup(provider);
      const error = await rejection(client.complete({ messages: conversation() }));
      expect(error).toBeInstanceOf(UnsupportedFieldsError);
      expect((error as UnsupportedFieldsError).fields).toEqual(['messages[1].images']);
      expect(error.message).toContain('LLM_DROP_UNSUPPORTED_PARAMS=true');
      expect(provider.requests).toHaveLength(0);
      await client.close();
    });

    it('are dropped from their messages alone with the drop policy, logged once and counted, the caller’s messages untouched', async () => {
      const provider = new ScriptedProvider([text('Two dots.')]);
      provider.unsupported = ['messages[1].images', 'messages[3].images'];
      const { client, lines, metrics } = setup(provider, { LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
      const messages = conversation();
      await client.complete({ messages });
      expect(provider.requests[0]?.messages).toEqual([
        { role: 'user', content: 'Draw a dot.' },
        { role: 'assistant', content: 'A dot.' },
        { role: 'user', content: 'And another.' },
        { role: 'assistant', content: 'Another.' },
        { role: 'user', content: 'What did you draw?' },
      ]);
      expect(messages).toEqual(conversation());
      expect(lines.filter((line) => line.includes('Dropped'))).toHaveLength(1);
      expect(lines.join('\n')).toContain('Dropped messages[1].images, messages[3].images');
      const counted = await metrics.droppedParams.get();
      expect(counted.values.map((value) => [value.labels['field'], value.value])).toEqual([['messages[].images', 2]]);
      await client.close();
    });

    it('as is an earlier audio answer’s audio, by the same policy', async () => {
      const echoedAudio = (): ChatMessage[] => [
        { role: 'user', content: 'Say hello.' },
        { role: 'assistant', content: 'Hello.', audio: { id: 'audio_1' } },
        { role: 'user', content: 'Again?' },
      ];
      const refusing = new ScriptedProvider([text('never')]);
      refusing.unsupported = ['messages[1].audio'];
      const refused = setup(refusing);
      const error = await rejection(refused.client.complete({ messages: echoedAudio() }));
      expect((error as UnsupportedFieldsError).fields).toEqual(['messages[1].audio']);
      expect(refusing.requests).toHaveLength(0);
      await refused.client.close();
      const provider = new ScriptedProvider([text('Hello again.')]);
      provider.unsupported = ['messages[1].audio'];
      const { client, lines, metrics } = setup(provider, { LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
      const messages = echoedAudio();
      await client.complete({ messages });
      expect(provider.requests[0]?.messages[1]).toEqual({ role: 'assistant', content: 'Hello.' });
      expect(messages).toEqual(echoedAudio());
      expect(lines.join('\n')).toContain('Dropped messages[1].audio');
      const counted = await metrics.droppedParams.get();
      expect(counted.values.map((value) => [value.labels['field'], value.value])).toEqual([['messages[].audio', 1]]);
      await client.close();
    });
  });
});

describe('fields a provider names through a promise', () => {
  it('refuse the call naming the field and the provider, before anything is sent', async () => {
    const provider = new ScriptedProvider([text('never')]);
    provider.unsupported = ['logit_bias'];
    provider.unsupportedLater = true;
    const { client, metrics } = setup(provider);
    const error = await rejection(client.complete({ messages: [{ role: 'user', content: 'x' }], logitBias: { '42': 10 } }));
    expect(error).toBeInstanceOf(UnsupportedFieldsError);
    expect((error as UnsupportedFieldsError).fields).toEqual(['logit_bias']);
    expect(error.message).toContain('"openai"');
    expect(provider.requests).toHaveLength(0);
    expect((await metrics.droppedParams.get()).values).toEqual([]);
    await client.close();
  });

  it('are dropped, logged and counted with LLM_DROP_UNSUPPORTED_PARAMS=true, and the call answers', async () => {
    const provider = new ScriptedProvider([text('ok')]);
    provider.unsupported = ['logit_bias', 'modalities'];
    provider.unsupportedLater = true;
    const { client, lines, metrics } = setup(provider, { LLM_DROP_UNSUPPORTED_PARAMS: 'true' });
    const response = await client.complete({
      messages: [{ role: 'user', content: 'x' }],
      logitBias: { '42': 10 },
      passthrough: { modalities: ['text'], prediction: { type: 'content', content: 'x' } },
    });
    expect(response.content).toBe('ok');
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]?.logitBias).toBeUndefined();
    expect(provider.requests[0]?.passthrough).toEqual({ prediction: { type: 'content', content: 'x' } });
    expect(lines.join('\n')).toContain('Dropped logit_bias, modalities');
    const counted = await metrics.droppedParams.get();
    expect(counted.values.map((value) => [value.labels['provider'], value.labels['field'], value.value])).toEqual([
      ['openai', 'logit_bias', 1],
      ['openai', 'modalities', 1],
    ]);
    await client.close();
  });
});

describe('request validation', () => {
  it('names every problem of a malformed request at once', async () => {
    const { client } = setup(new ScriptedProvider([]));
    const error = await rejection(
      client.complete({
        messages: [{ role: 'tool', toolCallId: '', content: 'x' }],
        toolChoice: { type: 'function', name: 'missing' },
        topLogprobs: 3,
      }),
    );
    expect(error).toBeInstanceOf(LlmRequestError);
    const problems = (error as LlmRequestError).problems.join('\n');
    expect(problems).toContain('messages.0.toolCallId');
    expect(problems).toContain('toolChoice: needs tools');
    expect(problems).toContain('topLogprobs: needs logprobs');
    await client.close();
  });

  it('sends no max_tokens when neither the call nor the configuration sets one', async () => {
    const provider = new ScriptedProvider([text('ok')]);
    const { client } = setup(provider);
    await client.complete({ messages: [{ role: 'user', content: 'x' }] });
    expect(provider.requests[0]?.maxTokens).toBeUndefined();
    await client.close();
  });
});
