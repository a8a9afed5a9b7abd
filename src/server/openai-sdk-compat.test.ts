import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { toolResultsOf } from '../testing/fake-tool-results.js';
import { checkedStacks } from './checked-stacks.test-helpers.js';
import { type ServiceStack, STACK_API_KEY } from './service-stack.test-helpers.js';
import type { SpecCheckingFetch } from './spec-checking-fetch.test-helpers.js';

/*
 * The official OpenAI SDK against `groundwork serve` in front of the fake provider: every answer and
 * chunk the SDK receives is checked against OpenAI's spec, and every body the upstream receives
 * against the spec's request schema.
 */

const startChecked = checkedStacks();
let checker: SpecCheckingFetch;

async function start(env?: Record<string, string>): Promise<{ client: OpenAI; stack: ServiceStack }> {
  const checked = await startChecked(env);
  checker = checked.checker;
  const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: checked.stack.baseUrl, maxRetries: 0, fetch: checker.fetch });
  return { client, stack: checked.stack };
}

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'weather',
    description: 'The weather in a city now',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    strict: true,
  },
};

describe('the official openai SDK', () => {
  it('round-trips a tool call: definition, call, result, answer', async () => {
    const { client, stack } = await start();
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'It is 21 °C in Paris.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' }, id: 'call_paris' }] },
    );
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [weatherTool], tool_choice: 'auto' });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call).toEqual({ id: 'call_paris', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: 'call_paris', content: '{"celsius":21}' });
    const second = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [weatherTool] });
    expect(second.choices[0]?.message.content).toBe('It is 21 °C in Paris.');
    const upstream = stack.upstreamBodies();
    expect(upstream[0]).toMatchObject({ tools: [weatherTool], tool_choice: 'auto' });
    expect(upstream[1]?.['messages']).toMatchObject([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_paris', content: '{"celsius":21}' },
    ]);
  });

  it('streams tool calls whose arguments the SDK assembles from the deltas', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({
      type: 'answer',
      toolCalls: [
        { name: 'weather', arguments: { city: 'Paris' } },
        { name: 'weather', arguments: { city: 'Rome' } },
      ],
      chunks: 4,
    });
    const stream = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }],
      tools: [weatherTool],
      stream_options: { include_usage: true },
    });
    const argumentPieces: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (event) => argumentPieces.push(event.arguments_delta));
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((call) => call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)])).toEqual([
      ['weather', { city: 'Paris' }],
      ['weather', { city: 'Rome' }],
    ]);
    expect(argumentPieces.length).toBeGreaterThan(2);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
    expect(checker.checked).toBeGreaterThan(5);
  });

  it('replays a cached tool-call answer as a stream with its tool calls, when the caller opted into the cache', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' }, id: 'call_cached' }] });
    const params = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user' as const, content: 'Weather?' }],
      tools: [weatherTool],
      temperature: 0,
    };
    const options = { headers: { 'X-Groundwork-Cache': 'use' } };
    const first = await client.chat.completions.stream(params, options).finalChatCompletion();
    const replay = await client.chat.completions.stream(params, options).finalChatCompletion();
    expect(replay.choices[0]?.message.tool_calls).toEqual(first.choices[0]?.message.tool_calls);
    expect(replay.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_cached', function: { arguments: '{"city":"Paris"}' } });
    expect(replay.choices[0]?.finish_reason).toBe('tool_calls');
    expect(stack.upstreamBodies()).toHaveLength(1);
  });

  it('sends images, by URL and inline with detail, to the upstream as the caller wrote them', async () => {
    const { client, stack } = await start();
    const content: OpenAI.ChatCompletionContentPart[] = [
      { type: 'text', text: 'Compare these.' },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
    ];
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    expect(stack.upstreamBodies()[0]?.['messages']).toEqual([{ role: 'user', content }]);
    // No hidden defaults: the caller set no token limit, so none is sent.
    expect(stack.upstreamBodies()[0]).not.toHaveProperty('max_completion_tokens');
    expect(stack.upstreamBodies()[0]).not.toHaveProperty('max_tokens');
  });

  it('returns n choices, whole and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', choices: [{ content: 'one' }, { content: 'two' }] });
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], n: 2 });
    expect(whole.choices.map((choice) => [choice.index, choice.message.content])).toEqual([
      [0, 'one'],
      [1, 'two'],
    ]);
    stack.fake.enqueue({ type: 'answer', choices: [{ content: 'uno' }, { content: 'due' }] });
    const stream = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], n: 2 });
    const streamed = await stream.finalChatCompletion();
    expect(streamed.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'uno', 'stop'],
      [1, 'due', 'stop'],
    ]);
    expect(stack.upstreamBodies().map((body) => body['n'])).toEqual([2, 2]);
  });

  it('returns log probabilities, whole and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', content: 'Hello there world', logprobs: true });
    const whole = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      top_logprobs: 2,
    });
    const tokens = whole.choices[0]?.logprobs?.content ?? [];
    expect(tokens.length).toBeGreaterThan(0);
    expect(typeof tokens[0]?.logprob).toBe('number');
    stack.fake.enqueue({ type: 'answer', content: 'Hello there world', logprobs: true });
    const streamed = await client.chat.completions
      .stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], logprobs: true, top_logprobs: 2 })
      .finalChatCompletion();
    expect(streamed.choices[0]?.logprobs?.content?.length).toBeGreaterThan(0);
    expect(stack.upstreamBodies()[0]).toMatchObject({ logprobs: true, top_logprobs: 2 });
  });

  it('forwards every request field, modelled or not, to the upstream verbatim', async () => {
    const { client, stack } = await start();
    const fields = {
      temperature: 0.3,
      top_p: 0.8,
      max_completion_tokens: 77,
      stop: ['END'],
      seed: 42,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      logit_bias: { '1234': -50 },
      user: 'end-user-1',
      metadata: { feature: 'compat' },
      store: false,
      service_tier: 'auto',
      reasoning_effort: 'low',
      verbosity: 'medium',
      parallel_tool_calls: false,
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object' }, strict: false } },
      modalities: ['text'],
      prediction: { type: 'content', content: 'It is sunny.' },
      safety_identifier: 'hashed-user-1',
      prompt_cache_key: 'compat-prefix',
      web_search_options: { search_context_size: 'low' },
    } as const;
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'developer', content: 'Answer briefly.', name: 'ops' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'text', text: 'In Oslo.' },
        ],
        name: 'ada',
      },
    ];
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      ...fields,
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(stack.upstreamBodies()[0]).toMatchObject({ model: 'gpt-4o-mini', messages, ...fields });
  });

  it('answers a refusal with 200 and message.refusal, whole, parsed and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' });
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bad' }] });
    expect(whole.choices[0]?.message).toMatchObject({ content: null, refusal: 'I can’t help with that.' });
    stack.fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' });
    const parsed = await client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'bad' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: {}, additionalProperties: false } },
      },
    });
    expect(parsed.choices[0]?.message.refusal).toBe('I can’t help with that.');
    expect(parsed.choices[0]?.message.parsed).toBeNull();
    stack.fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.', chunks: 3 });
    const refusalPieces: string[] = [];
    const stream = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bad' }] });
    stream.on('refusal.delta', (event) => refusalPieces.push(event.delta));
    const streamed = await stream.finalChatCompletion();
    expect(streamed.choices[0]?.message.refusal).toBe('I can’t help with that.');
    expect(refusalPieces.length).toBeGreaterThan(1);
  });

  it('passes on the provider’s id, fingerprint, service tier and rate-limit headers', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({
      type: 'answer',
      content: 'hi',
      systemFingerprint: 'fp_compat',
      serviceTier: 'default',
      rateLimitHeaders: { 'x-ratelimit-remaining-requests': '41' },
    });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data).toMatchObject({ system_fingerprint: 'fp_compat', service_tier: 'default' });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('41');
    expect(response.headers.get('x-groundwork-attempts')).toBe('1');
  });

  it('passes on the rate-limit headers and attempts of a streamed answer, after a retried 503', async () => {
    const { client, stack } = await start({ LLM_MAX_ATTEMPTS: '2', LLM_RETRY_MIN_MS: '1', LLM_RETRY_MAX_MS: '2' });
    stack.fake.enqueue(
      { type: 'error', status: 503 },
      { type: 'answer', content: 'hello there', rateLimitHeaders: { 'x-ratelimit-remaining-tokens': '29000' } },
    );
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('hello there');
    expect(response.headers.get('x-ratelimit-remaining-tokens')).toBe('29000');
    expect(response.headers.get('x-groundwork-attempts')).toBe('2');
    expect(response.headers.get('x-groundwork-cache')).toBe('miss');
  });
});
