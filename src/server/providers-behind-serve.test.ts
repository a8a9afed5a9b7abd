import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { toolResultsOf } from '../testing/fake-tool-results.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from './service-stack.test-helpers.js';

/*
 * The same OpenAI client, tools and conversation against `serve` in front of each OpenAI-family
 * upstream (OpenAI, Azure's deployment paths, an OpenAI-compatible server): the tool round trip
 * holds on every wire, whole and streamed.
 */

const UPSTREAMS: Array<[string, (fake: FakeProviderServer) => Record<string, string>]> = [
  ['OpenAI', () => ({})],
  [
    'Azure OpenAI',
    (fake) => ({
      LLM_PROVIDER: 'azure',
      AZURE_OPENAI_API_KEY: 'azure-compat-secret',
      AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
      AZURE_OPENAI_DEPLOYMENT: 'chat-deploy',
    }),
  ],
  ['an OpenAI-compatible server', () => ({ LLM_PROVIDER: 'openai-compatible', OPENAI_MODEL: 'llama3.1' })],
];

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe.each(UPSTREAMS)('serve in front of %s', (_name, env) => {
  it('relays the answer’s unmodelled fields (reasoning_content), whole and streamed', async () => {
    stack = await startServiceStack(env);
    stack.fake.setHandler(() => ({ type: 'answer', content: 'Lima is sunny.', reasoning: 'Lima in summer: dry and warm.' }));
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Lima?' }];
    const whole = await client.chat.completions.create({ model: 'any', messages });
    expect(whole.choices[0]?.message).toMatchObject({ content: 'Lima is sunny.', reasoning_content: 'Lima in summer: dry and warm.' });
    let reasoning = '';
    let content = '';
    for await (const chunk of await client.chat.completions.create({ model: 'any', messages, stream: true })) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
    }
    expect({ content, reasoning }).toEqual({ content: 'Lima is sunny.', reasoning: 'Lima in summer: dry and warm.' });
  });

  it('round-trips a tool call, whole and streamed, and sends the tool result upstream', async () => {
    stack = await startServiceStack(env);
    const fake = stack.fake;
    fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' }, id: 'call_lima' }] },
    );
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Lima?' }];
    const first = await client.chat.completions.create({ model: 'any', messages, tools });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(first.choices[0]?.message.tool_calls).toEqual([
      { id: 'call_lima', type: 'function', function: { name: 'weather', arguments: '{"city":"Lima"}' } },
    ]);
    const streamed = await client.chat.completions.stream({ model: 'any', messages, tools }).finalChatCompletion();
    expect(streamed.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_lima', function: { arguments: '{"city":"Lima"}' } });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: 'call_lima', content: 'sunny' });
    const answer = await client.chat.completions.create({ model: 'any', messages, tools });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Lima.');
    const last = fake.requests.at(-1)!;
    expect(toolResultsOf(last)).toEqual([{ toolCallId: 'call_lima', content: 'sunny', isError: false }]);
    expect((last.body as { tools?: unknown[] }).tools).toHaveLength(1);
  });
});
