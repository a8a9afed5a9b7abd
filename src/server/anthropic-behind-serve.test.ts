import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { toolResultsOf } from '../testing/fake-tool-results.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from './service-stack.test-helpers.js';

/* An OpenAI client in front of `serve` in front of Anthropic's wire: the same chat surface, translated. */

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(): Promise<{ client: OpenAI; stack: ServiceStack }> {
  stack = await startServiceStack({
    LLM_PROVIDER: 'anthropic',
    ANTHROPIC_API_KEY: 'sk-ant-compat-secret',
    ANTHROPIC_MODEL: 'claude-sonnet-4',
  });
  const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0 });
  return { client, stack };
}

function anthropicBodies(stack: ServiceStack): Array<Record<string, unknown>> {
  return stack.fake.requests.filter((request) => request.wire === 'anthropic').map((request) => request.body as Record<string, unknown>);
}

describe('serve in front of Anthropic', () => {
  it('round-trips a tool call, whole and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' }, id: 'toolu_1' }] },
    );
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Lima?' },
    ];
    const first = await client.chat.completions.create({ model: 'claude-sonnet-4', messages, tools });
    expect(first.choices[0]?.message.tool_calls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Lima"}' } },
    ]);
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const streamed = await client.chat.completions.stream({ model: 'claude-sonnet-4', messages, tools }).finalChatCompletion();
    expect(streamed.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      id: 'toolu_1',
      function: { name: 'weather', arguments: '{"city":"Lima"}' },
    });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' });
    const answer = await client.chat.completions.create({ model: 'claude-sonnet-4', messages, tools });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Lima.');
    expect(anthropicBodies(stack)[2]).toMatchObject({ system: expect.anything() });
  });

  it('hands out the signed thinking of a tool call in reasoning_blocks and takes it back, whole and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', thinking: 'Ask the tool.', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' }, id: 'toolu_1' }] },
    );
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const question: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Lima?' }];
    const thinking = { type: 'thinking', provider: 'anthropic', text: 'Ask the tool.', signature: expect.stringMatching(/^fake-sig-/) };
    const first = await client.chat.completions.create({ model: 'claude-sonnet-4', messages: question, tools, reasoning_effort: 'low' });
    const answered = first.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_blocks?: unknown };
    expect(answered.reasoning_blocks).toEqual([thinking]);
    const chunks = await client.chat.completions.create({
      model: 'claude-sonnet-4',
      messages: question,
      tools,
      reasoning_effort: 'low',
      stream: true,
    });
    const streamedBlocks: unknown[] = [];
    for await (const chunk of chunks) {
      const delta = chunk.choices[0]?.delta as { reasoning_blocks?: unknown[] } | undefined;
      streamedBlocks.push(...(delta?.reasoning_blocks ?? []));
    }
    expect(streamedBlocks).toEqual([thinking]);
    // The client appends the answer as it came, extension fields included.
    const messages = [
      ...question,
      answered as OpenAI.ChatCompletionMessageParam,
      { role: 'tool' as const, tool_call_id: 'toolu_1', content: 'sunny' },
    ];
    const answer = await client.chat.completions.create({ model: 'claude-sonnet-4', messages, tools, reasoning_effort: 'low' });
    expect(answer.choices[0]?.message.content).toBe('Sunny in Lima.');
    const sent = anthropicBodies(stack)[2]?.['messages'] as Array<{ role: string; content: Array<{ type: string }> }>;
    expect(sent[1]?.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
  });

  it('hands out the signed thinking of a function call through the translated Responses API and takes it back, whole and streamed', async () => {
    const { client, stack } = await start();
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length > 0
        ? { type: 'answer', content: 'Sunny in Lima.' }
        : { type: 'answer', thinking: 'Ask the tool.', toolCalls: [{ name: 'weather', arguments: { city: 'Lima' }, id: 'toolu_1' }] },
    );
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const asked = { model: 'claude-sonnet-4', tools, reasoning: { effort: 'low' } } as const;
    for (const stream of [false, true]) {
      const first = stream
        ? await client.responses.stream({ ...asked, input: 'Weather in Lima?' }).finalResponse()
        : await client.responses.create({ ...asked, input: 'Weather in Lima?' });
      const call = first.output.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({
        call_id: 'toolu_1',
        reasoning_blocks: [
          { type: 'thinking', provider: 'anthropic', text: 'Ask the tool.', signature: expect.stringMatching(/^fake-sig-/) },
        ],
      });
      // The client appends the output as it came, extension fields included.
      const input: OpenAI.Responses.ResponseInput = [
        { role: 'user', content: 'Weather in Lima?' },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: 'toolu_1', output: 'sunny' },
      ];
      const answer = await client.responses.create({ ...asked, input });
      expect(answer.output_text).toBe('Sunny in Lima.');
      const sent = anthropicBodies(stack).at(-1)?.['messages'] as Array<{ role: string; content: Array<{ type: string }> }>;
      expect(sent[1]?.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
    }
  });

  it('refuses a field Anthropic cannot honour with 400 naming it, and tells the SDK not to retry', async () => {
    const { client, stack } = await start();
    const error = await client.chat.completions
      .create({ model: 'claude-sonnet-4', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 5 } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).error).toMatchObject({ param: 'logit_bias' });
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
    expect(anthropicBodies(stack)).toHaveLength(0);
  });
});
