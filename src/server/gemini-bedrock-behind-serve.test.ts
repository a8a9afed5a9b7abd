import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { toolResultsOf } from '../testing/fake-tool-results.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from './service-stack.test-helpers.js';

/* An OpenAI client in front of `serve` in front of Gemini's and Bedrock's wires: the same chat surface, translated. */

const SETUPS = {
  gemini: {
    model: 'gemini-2.5-flash',
    embeddingModel: 'gemini-embedding-001',
    env: (fake: FakeProviderServer) => ({
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'AIza-serve-secret',
      GEMINI_BASE_URL: fake.geminiBaseUrl,
    }),
  },
  bedrock: {
    model: 'amazon.nova-lite-v1:0',
    embeddingModel: 'amazon.titan-embed-text-v2:0',
    env: (fake: FakeProviderServer) => ({
      LLM_PROVIDER: 'bedrock',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIASERVE',
      AWS_SECRET_ACCESS_KEY: 'aws-serve-secret',
      BEDROCK_BASE_URL: fake.bedrockEndpoint,
    }),
  },
} as const;

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe.each(['gemini', 'bedrock'] as const)('serve in front of %s', (name) => {
  const setup = SETUPS[name];

  async function start(): Promise<{ client: OpenAI; stack: ServiceStack }> {
    stack = await startServiceStack(setup.env);
    return { client: new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 }), stack };
  }

  it('round-trips a tool call, whole and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' } }] },
    );
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Lima?' },
    ];
    const first = await client.chat.completions.create({ model: setup.model, messages, tools });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(call).toMatchObject({ type: 'function', function: { name: 'weather', arguments: '{"city":"Lima"}' } });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const streamed = await client.chat.completions.stream({ model: setup.model, messages, tools }).finalChatCompletion();
    expect(streamed.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'weather', arguments: '{"city":"Lima"}' } });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny' });
    const answer = await client.chat.completions.create({ model: setup.model, messages, tools });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Lima.');
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('answers structured output as JSON text, and embeds', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', json: { word: 'hallo' } });
    const schema = { type: 'object', properties: { word: { type: 'string' } }, required: ['word'], additionalProperties: false };
    const completion = await client.chat.completions.create({
      model: setup.model,
      messages: [{ role: 'user', content: 'Hello in German?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ word: 'hallo' });
    const embeddings = await client.embeddings.create({ model: setup.embeddingModel, input: ['a cat', 'a dog'], dimensions: 256 });
    expect(embeddings.data.map((item) => item.embedding.length)).toEqual([256, 256]);
  });

  it('refuses a field the provider cannot honour with 400 naming it, and passes a throttle on as 429', async () => {
    const { client, stack } = await start();
    const refused = await client.chat.completions
      .create({ model: setup.model, messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 5 } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(400);
    expect((refused as APIError).error).toMatchObject({ param: 'logit_bias' });
    expect(stack.fake.requests).toHaveLength(0);
    stack.fake.enqueue({ type: 'error', status: 429, retryAfter: 1, ...(name === 'bedrock' ? { code: 'ThrottlingException' } : {}) });
    const throttled = await client.chat.completions.create({ model: setup.model, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((throttled as APIError).status).toBe(429);
  });
});

describe('serve in front of a Gemini 3 model', () => {
  it('hands out a tool call’s thought signature and takes it back', async () => {
    stack = await startServiceStack(SETUPS.gemini.env);
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' } }] },
    );
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Lima?' }];
    const first = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    const call = first.choices[0]?.message.tool_calls?.[0] as (OpenAI.ChatCompletionMessageToolCall & { signature?: string }) | undefined;
    expect(call?.signature).toMatch(/^fake-thought-/);
    // The client appends the answer as it came, extension fields included.
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny' });
    const answer = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Lima.');
  });

  it.each([false, true])(
    'hands out a text answer’s thought signature in reasoning_blocks and sends it back on the text part (streamed: %s)',
    async (stream) => {
      stack = await startServiceStack(SETUPS.gemini.env);
      const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
      stack.fake.setHandler(() => ({ type: 'answer', content: 'Lima is in Peru.', textSignature: 'sig-text' }));
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Where is Lima?' }];
      const ask = { model: 'gemini-3-pro-preview', messages };
      const first = stream ? await client.chat.completions.stream(ask).finalChatCompletion() : await client.chat.completions.create(ask);
      const message = first.choices[0]!.message;
      expect((message as { reasoning_blocks?: unknown }).reasoning_blocks).toEqual([
        { type: 'thinking', provider: 'gemini', text: '', signature: 'sig-text' },
      ]);
      messages.push(message as OpenAI.ChatCompletionMessageParam, { role: 'user', content: 'And Quito?' });
      await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages });
      expect((stack.fake.requests[1]?.body as { contents?: unknown[] } | undefined)?.contents?.[1]).toEqual({
        role: 'model',
        parts: [{ text: 'Lima is in Peru.', thoughtSignature: 'sig-text' }],
      });
    },
  );
});

describe('serve in front of a Gemini image model', () => {
  it('answers the images it makes in message.images, whole and in the stream’s last delta', async () => {
    stack = await startServiceStack(SETUPS.gemini.env);
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    const data = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    stack.fake.setHandler(() => ({ type: 'answer', content: 'A dot.', images: [{ mediaType: 'image/png', data }] }));
    const images = [{ type: 'image_url', image_url: { url: `data:image/png;base64,${data}` } }];
    const ask = { model: 'gemini-2.5-flash-image', messages: [{ role: 'user' as const, content: 'Draw a dot.' }] };
    const whole = await client.chat.completions.create(ask);
    expect(whole.choices[0]?.message).toMatchObject({ content: 'A dot.', images });
    const deltas: Array<Record<string, unknown>> = [];
    for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) {
      for (const choice of chunk.choices) deltas.push(choice.delta as Record<string, unknown>);
    }
    expect(deltas.filter((delta) => delta['images'] !== undefined)).toEqual([{ images }]);
  });
});

describe('serve’s streamed chat in front of a Gemini 3 model', () => {
  it('gives the thought signature to the SDK’s stream helper, which keeps it on the tool call', async () => {
    stack = await startServiceStack(SETUPS.gemini.env);
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' } }] },
    );
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Lima?' }];
    const first = await client.chat.completions.stream({ model: 'gemini-3-pro-preview', messages, tools }).finalChatCompletion();
    const message = first.choices[0]!.message;
    const call = message.tool_calls?.[0] as (OpenAI.ChatCompletionMessageToolCall & { signature?: string }) | undefined;
    expect(call?.signature).toMatch(/^fake-thought-/);
    messages.push(message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call?.id ?? '', content: 'sunny' });
    const answer = await client.chat.completions.create({ model: 'gemini-3-pro-preview', messages, tools });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Lima.');
  });
});

describe('serve’s translated Responses API in front of a Gemini 3 model', () => {
  it('hands out a function call’s thought signature and takes it back, whole and streamed', async () => {
    stack = await startServiceStack(SETUPS.gemini.env);
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' } }] },
    );
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const model = 'gemini-3-pro-preview';
    for (const stream of [false, true]) {
      const first = stream
        ? await client.responses.stream({ model, input: 'Weather in Lima?', tools }).finalResponse()
        : await client.responses.create({ model, input: 'Weather in Lima?', tools });
      const call = first.output.find((item) => item.type === 'function_call') as
        | (OpenAI.Responses.ResponseFunctionToolCall & { signature?: string })
        | undefined;
      expect(call?.signature).toMatch(/^fake-thought-/);
      // The client appends the output as it came, extension fields included.
      const input: OpenAI.Responses.ResponseInput = [
        { role: 'user', content: 'Weather in Lima?' },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: call?.call_id ?? '', output: 'sunny' },
      ];
      const answer = await client.responses.create({ model, input, tools });
      expect(answer.output_text).toBe('Sunny in Lima.');
    }
  });
});
