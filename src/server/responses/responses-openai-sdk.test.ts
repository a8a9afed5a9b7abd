import { describe, expect, it } from 'vitest';
import { toolResultsOf } from '../../testing/fake-tool-results.js';
import { responsesStacks, UPSTREAMS } from './responses-stacks.test-helpers.js';

/* The official `openai` SDK's Responses API against `groundwork serve`, in front of each kind of upstream. */

const start = responsesStacks();

describe.each(Object.keys(UPSTREAMS))('responses in front of %s', (upstream) => {
  it('answers responses.create', async () => {
    const { client, stack } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', content: 'Hallo Welt', usage: { promptTokens: 9, completionTokens: 3 } });
    const response = await client.responses.create({ model: 'gpt-4o-mini', instructions: 'Translate to German.', input: 'Hello world' });
    expect(response.output_text).toBe('Hallo Welt');
    expect(response.status).toBe('completed');
    expect(response.usage).toMatchObject({ input_tokens: 9, output_tokens: 3, total_tokens: 12 });
  });

  it('streams with responses.stream', async () => {
    const { client, stack, checker } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', content: 'Guten Tag', chunks: 3 });
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Good day' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Guten Tag');
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.output_text).toBe('Guten Tag');
    await checker.problems();
    expect(checker.eventTypes).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...deltas.map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });
});

describe.each(Object.keys(UPSTREAMS))('tools and structured output in front of %s', (upstream) => {
  it('round-trips a function call and its output', async () => {
    const { client, stack } = await start(UPSTREAMS[upstream]!);
    stack.fake.setHandler((request) =>
      toolResultsOf(request).length === 0
        ? { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' }, id: 'call_weather_1' }] }
        : { type: 'answer', content: `It is ${toolResultsOf(request)[0]?.content} in Paris.` },
    );
    const tools = [
      {
        type: 'function' as const,
        name: 'weather',
        description: 'The weather now',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
        strict: true,
      },
    ];
    const first = await client.responses.create({ model: 'gpt-4o-mini', input: 'Weather in Paris?', tools, store: false });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'weather', call_id: 'call_weather_1', arguments: '{"city":"Paris"}' });
    const second = await client.responses.create({
      model: 'gpt-4o-mini',
      tools,
      store: false,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        ...first.output.filter((item) => item.type === 'function_call'),
        { type: 'function_call_output', call_id: 'call_weather_1', output: '21 °C' },
      ],
    });
    expect(second.output_text).toBe('It is 21 °C in Paris.');
    if (upstream === 'anthropic') {
      const sent = stack.fake.requests.at(-1)?.body as { messages: Array<{ role: string; content: unknown }> };
      expect(sent.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
      expect(JSON.stringify(sent.messages[2]?.content)).toContain('tool_result');
    }
  });

  it('streams a function call as argument deltas', async () => {
    const { client, stack, checker } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }], chunks: 3 });
    const tools = [
      {
        type: 'function' as const,
        name: 'weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        strict: false,
      },
    ];
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Weather in Oslo?', tools, store: false });
    const final = await stream.finalResponse();
    expect(final.output.find((item) => item.type === 'function_call')).toMatchObject({ name: 'weather', arguments: '{"city":"Oslo"}' });
    await checker.problems();
    expect(checker.eventTypes).toContain('response.function_call_arguments.delta');
    expect(checker.eventTypes).toContain('response.function_call_arguments.done');
  });

  it('answers structured output (text.format json_schema)', async () => {
    const { client, stack } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', json: { translations: ['Katze'] } });
    const schema = {
      type: 'object',
      properties: { translations: { type: 'array', items: { type: 'string' } } },
      required: ['translations'],
      additionalProperties: false,
    };
    const response = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Translate cat to German.',
      text: { format: { type: 'json_schema', name: 'translation', schema, strict: true } },
      store: false,
    });
    expect(JSON.parse(response.output_text)).toEqual({ translations: ['Katze'] });
    expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'translation' });
  });
});

describe.each(Object.keys(UPSTREAMS))('refusals and cut answers in front of %s', (upstream) => {
  it('answers a refusal as a refusal part, whole and streamed', async () => {
    const { client, stack, checker } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', refusal: 'I can’t help with that.' }, { type: 'answer', refusal: 'I can’t help with that.' });
    const whole = await client.responses.create({ model: 'gpt-4o-mini', input: 'Something bad', store: false });
    if (upstream === 'anthropic') {
      // Anthropic refuses in text, with `stop_reason: refusal`: the text is kept, the response is incomplete by a filter.
      expect(whole.output_text).toBe('I can’t help with that.');
      expect(whole).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
      return;
    }
    expect(whole.output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I can’t help with that.' }] });
    const streamed = await client.responses.stream({ model: 'gpt-4o-mini', input: 'Something bad', store: false }).finalResponse();
    expect(streamed.output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I can’t help with that.' }] });
    await checker.problems();
    expect(checker.eventTypes).toContain('response.refusal.delta');
    expect(checker.eventTypes).toContain('response.refusal.done');
  });

  it('marks an answer cut at max_output_tokens as incomplete', async () => {
    const { client, stack } = await start(UPSTREAMS[upstream]!);
    stack.fake.enqueue({ type: 'answer', content: 'cut sh', finishReason: 'length' });
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Long story', max_output_tokens: 16, store: false });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});
