import { afterEach, describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../test/openai-spec.js';
import type { ChatChoice } from '../llm/types.js';
import { startTestServer, TEST_API_KEY, type TestServer } from './test-server.test-helpers.js';

let harness: TestServer | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  harness ??= await startTestServer();
  return fetch(`${harness.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The `data:` payloads of an event stream, `[DONE]` left out. */
async function chunksOf(response: Response): Promise<Array<Record<string, unknown>>> {
  const events = (await response.text()).split('\n\n').filter((event) => event !== '');
  expect(events.at(-1)).toBe('data: [DONE]');
  return events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)) as Record<string, unknown>);
}

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

describe('the request, mapped onto the neutral model', () => {
  it('keeps every role, part, tool and field, and forwards unmodelled fields verbatim', async () => {
    const response = await post({
      model: 'gpt-4o',
      messages: [
        { role: 'developer', content: 'Be terse.', name: 'ops' },
        {
          role: 'system',
          content: [
            { type: 'text', text: 'One.' },
            { type: 'text', text: 'Two.' },
          ],
        },
        {
          role: 'user',
          name: 'ada',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: PNG, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'file', file: { file_id: 'file-abc' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":3}' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I will not.' }], refusal: 'I will not.' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: {} }, strict: true },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      parallel_tool_calls: false,
      n: 2,
      logprobs: true,
      top_logprobs: 3,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logit_bias: { '50256': -100 },
      user: 'user-42',
      metadata: { team: 'search' },
      store: true,
      service_tier: 'flex',
      reasoning_effort: 'low',
      verbosity: 'high',
      stop: ['END', 'STOP'],
      seed: 1,
      max_tokens: 99,
      temperature: 0.2,
      top_p: 0.9,
      response_format: { type: 'json_schema', json_schema: { name: 'w', description: 'a word', schema: { type: 'object' } } },
      modalities: ['text'],
      prediction: { type: 'content', content: 'draft' },
      web_search_options: {},
      safety_identifier: 'hash-1',
      prompt_cache_key: 'k1',
    });
    expect(response.status).toBe(200);
    expect(harness?.backend.calls[0]?.request).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'developer', content: 'Be terse.', name: 'ops' },
        {
          role: 'system',
          content: [
            { type: 'text', text: 'One.' },
            { type: 'text', text: 'Two.' },
          ],
        },
        {
          role: 'user',
          name: 'ada',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', url: PNG, detail: 'high' },
            { type: 'image', url: 'https://example.com/cat.jpg' },
            { type: 'audio', data: 'UklGRg==', format: 'wav' },
            { type: 'file', fileId: 'file-abc' },
            { type: 'file', data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' },
          ],
        },
        { role: 'assistant', toolCalls: [{ id: 'call_1', type: 'function', name: 'weather', arguments: '{"city":"Oslo"}' }] },
        { role: 'tool', toolCallId: 'call_1', content: '{"celsius":3}' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I will not.' }], refusal: 'I will not.' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [
        { type: 'function', name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: {} }, strict: true },
      ],
      toolChoice: { type: 'function', name: 'weather' },
      parallelToolCalls: false,
      n: 2,
      logprobs: true,
      topLogprobs: 3,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      logitBias: { '50256': -100 },
      user: 'user-42',
      metadata: { team: 'search' },
      store: true,
      serviceTier: 'flex',
      reasoningEffort: 'low',
      verbosity: 'high',
      stop: ['END', 'STOP'],
      seed: 1,
      maxTokens: 99,
      temperature: 0.2,
      topP: 0.9,
      responseFormat: { type: 'json_schema', name: 'w', description: 'a word', schema: { type: 'object' } },
      passthrough: {
        modalities: ['text'],
        prediction: { type: 'content', content: 'draft' },
        web_search_options: {},
        safety_identifier: 'hash-1',
        prompt_cache_key: 'k1',
      },
    });
  });

  it('accepts an answer appended to the conversation as the client received it', async () => {
    const response = await post({
      model: 'm',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: 'See the docs.',
          refusal: null,
          annotations: [{ type: 'url_citation', url_citation: { url: 'https://example.com', title: 'x', start_index: 0, end_index: 3 } }],
          audio: { id: 'audio_1', data: 'UklGRg==', expires_at: 1, transcript: 'See the docs.' },
          function_call: null,
          parsed: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}', parsed_arguments: {} } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ],
    });
    expect(response.status).toBe(200);
    expect(harness?.backend.calls[0]?.request.messages[1]).toEqual({
      role: 'assistant',
      content: 'See the docs.',
      audio: { id: 'audio_1' },
      toolCalls: [{ id: 'call_1', type: 'function', name: 'f', arguments: '{}' }],
    });
  });

  it('refuses invalid fields with 400 naming the field, never quoting prompt text', async () => {
    const response = await post({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'secret-prompt-7' },
            { type: 'video', url: 'x' },
          ],
        },
      ],
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { param: string; message: string } };
    expect(error.param).toBe('messages[0].content[1].type');
    expect(error.message).not.toContain('secret-prompt-7');
    expect(harness?.backend.calls).toHaveLength(0);
  });
});

const twoChoices: ChatChoice[] = [
  {
    index: 0,
    message: {
      content: null,
      toolCalls: [
        { id: 'call_a', type: 'function', name: 'weather', arguments: '{"city":"Oslo"}' },
        { id: 'call_b', type: 'function', name: 'weather', arguments: '{"city":"Rome"}' },
      ],
    },
    finishReason: 'tool_calls',
    logprobs: {
      content: [{ token: 'x', logprob: -0.1, bytes: [120], topLogprobs: [{ token: 'x', logprob: -0.1, bytes: [120] }] }],
      refusal: null,
    },
  },
  { index: 1, message: { content: null, refusal: 'I can’t help with that.' }, finishReason: 'content_filter' },
];

describe('the answer, in OpenAI’s shape', () => {
  it('returns every choice with tool calls, refusal and logprobs, the provider’s id and metadata, and validates against the spec', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({
      completion: {
        choices: twoChoices,
        id: 'chatcmpl-upstream-1',
        created: 1_700_000_000,
        systemFingerprint: 'fp_123',
        serviceTier: 'default',
        rateLimitHeaders: { 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-limit-tokens': '30000' },
      },
      usage: { promptTokens: 10, completionTokens: 5, cachedPromptTokens: 2 },
      attempts: 2,
    });
    const response = await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], n: 2 });
    const body = (await response.json()) as Record<string, unknown>;
    expect(validateOpenAiSchema('CreateChatCompletionResponse', body)).toEqual([]);
    expect(body).toMatchObject({
      id: 'chatcmpl-upstream-1',
      created: 1_700_000_000,
      system_fingerprint: 'fp_123',
      service_tier: 'default',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
              { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          logprobs: {
            content: [{ token: 'x', logprob: -0.1, bytes: [120], top_logprobs: [{ token: 'x', logprob: -0.1, bytes: [120] }] }],
            refusal: null,
          },
          finish_reason: 'tool_calls',
        },
        {
          index: 1,
          message: { role: 'assistant', content: null, refusal: 'I can’t help with that.' },
          logprobs: null,
          finish_reason: 'content_filter',
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
    });
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('99');
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('30000');
    expect(response.headers.get('x-groundwork-attempts')).toBe('2');
    expect(response.headers.get('x-groundwork-cache')).toBe('miss');
  });

  it('leaves out system_fingerprint and service_tier when the provider gave none, and makes its own id', async () => {
    const response = await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const body = (await response.json()) as Record<string, unknown>;
    expect(validateOpenAiSchema('CreateChatCompletionResponse', body)).toEqual([]);
    expect(body).not.toHaveProperty('system_fingerprint');
    expect(body).not.toHaveProperty('service_tier');
    expect(body['id']).toMatch(/^chatcmpl-/);
  });

  it('answers a refusal with 200 and message.refusal, as the provider said it', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({
      completion: { choices: [{ index: 0, message: { content: null, refusal: 'No.' }, finishReason: 'content_filter' }] },
    });
    const completion = await harness.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.refusal).toBe('No.');
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
  });
});

describe('the stream, chunk by chunk as OpenAI sends it', () => {
  it('streams tool calls (first chunk with id and name, then argument pieces), refusals and a finish per choice', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({
      completion: { choices: twoChoices },
      events: [
        { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'weather', arguments: '' },
        { type: 'tool-call-delta', index: 0, arguments: '{"city":' },
        { type: 'tool-call-delta', index: 0, arguments: '"Oslo"}' },
        { type: 'refusal-delta', choice: 1, text: 'I can’t ' },
        { type: 'refusal-delta', choice: 1, text: 'help with that.' },
        { type: 'tool-call-delta', index: 1, id: 'call_b', name: 'weather', arguments: '{"city":"Rome"}' },
      ],
    });
    const response = await post({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await chunksOf(response);
    for (const chunk of chunks) expect(validateOpenAiSchema('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    const choices = chunks.flatMap(
      (chunk) => chunk['choices'] as Array<{ index: number; delta: Record<string, unknown>; finish_reason: unknown }>,
    );
    const first = choices.filter((choice) => choice.index === 0).map((choice) => choice.delta);
    expect(first).toEqual([
      { role: 'assistant', content: '' },
      { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] },
      { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'weather', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{"city":"Rome"}' } }] },
      {},
    ]);
    const second = choices.filter((choice) => choice.index === 1).map((choice) => choice.delta);
    expect(second).toEqual([{ role: 'assistant', content: '' }, { refusal: 'I can’t ' }, { refusal: 'help with that.' }, {}]);
    expect(choices.filter((choice) => choice.finish_reason !== null).map((choice) => [choice.index, choice.finish_reason])).toEqual([
      [0, 'tool_calls'],
      [1, 'content_filter'],
    ]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 7 } });
  });

  it('sends what the events did not stream (a cached replay of text only) before the choice finishes', async () => {
    harness = await startTestServer();
    harness.backend.enqueue({ completion: { choices: [twoChoices[0]!] }, events: [] });
    const stream = harness.client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls?.map((call) => call.type === 'function' && call.function)).toMatchObject([
      { name: 'weather', arguments: '{"city":"Oslo"}' },
      { name: 'weather', arguments: '{"city":"Rome"}' },
    ]);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('carries the id and creation time the start gave on every chunk, and makes only what the start left out', async () => {
    harness = await startTestServer();
    harness.backend.enqueue(
      { events: [{ type: 'start', attempts: 1, cached: false, id: 'chatcmpl-upstream', created: 1_700_000_000 }] },
      { events: [{ type: 'start', attempts: 1, cached: false, id: 'msg_upstream' }] },
    );
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } };
    const named = await chunksOf(await post(body));
    const before = Math.floor(Date.now() / 1000);
    const undated = await chunksOf(await post(body));
    for (const chunk of [...named, ...undated]) expect(validateOpenAiSchema('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
    expect(named.length).toBeGreaterThanOrEqual(4);
    expect(new Set(named.map((chunk) => `${chunk['id']} ${chunk['created']}`))).toEqual(new Set(['chatcmpl-upstream 1700000000']));
    expect(new Set(undated.map((chunk) => chunk['id']))).toEqual(new Set(['msg_upstream']));
    const created = new Set(undated.map((chunk) => chunk['created']));
    expect(created.size).toBe(1);
    expect([...created][0]).toBeGreaterThanOrEqual(before);
  });

  it('passes the caller’s cache choice to streams, and bypasses the cache by default', async () => {
    await (await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }, { 'x-groundwork-cache': 'use' })).text();
    await (await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })).text();
    await (await post({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).text();
    expect(harness?.backend.calls.map((call) => call.cache)).toEqual([true, false, false]);
  });
});
