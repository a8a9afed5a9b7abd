import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkedStacks } from './checked-stacks.test-helpers.js';
import { STACK_API_KEY } from './service-stack.test-helpers.js';
import type { SpecCheckingFetch } from './spec-checking-fetch.test-helpers.js';

/* LangChain JS's `ChatOpenAI` against `groundwork serve` in front of the fake provider. */

const startChecked = checkedStacks();
let checker: SpecCheckingFetch;

async function start() {
  const { stack, checker: checking } = await startChecked();
  checker = checking;
  const chat = new ChatOpenAI({
    model: 'gpt-4o-mini',
    apiKey: STACK_API_KEY,
    maxRetries: 0,
    configuration: { baseURL: stack.baseUrl, fetch: checker.fetch },
  });
  return { chat, stack };
}

const weatherSchema = z.object({ city: z.string().describe('The city') });
const weatherTool = { name: 'weather', description: 'The weather in a city now', schema: weatherSchema };

describe('LangChain ChatOpenAI', () => {
  it('calls bound tools and continues the conversation with their results', async () => {
    const { chat, stack } = await start();
    stack.fake.enqueue(
      { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' }, id: 'call_lc' }] },
      { type: 'answer', content: 'It is 21 °C in Paris.' },
    );
    const withTools = chat.bindTools([weatherTool]);
    const question = new HumanMessage('Weather in Paris?');
    const call = await withTools.invoke([question]);
    expect(call.tool_calls).toMatchObject([{ name: 'weather', args: { city: 'Paris' }, id: 'call_lc' }]);
    const answer = await withTools.invoke([question, call, new ToolMessage({ tool_call_id: 'call_lc', content: '{"celsius":21}' })]);
    expect(answer.content).toBe('It is 21 °C in Paris.');
    expect(stack.upstreamBodies()[1]?.['messages']).toMatchObject([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', tool_calls: [{ id: 'call_lc', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_lc', content: '{"celsius":21}' },
    ]);
  });

  it('streams tool calls in chunks that add up to the call', async () => {
    const { chat, stack } = await start();
    stack.fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Rome' } }], chunks: 4 });
    let whole: Awaited<ReturnType<ChatOpenAI['invoke']>> | undefined;
    let count = 0;
    for await (const chunk of await chat.bindTools([weatherTool]).stream([new HumanMessage('Weather in Rome?')])) {
      whole = whole === undefined ? chunk : whole.concat(chunk);
      count++;
    }
    expect(count).toBeGreaterThan(3);
    expect(whole?.tool_calls).toMatchObject([{ name: 'weather', args: { city: 'Rome' } }]);
  });

  it('streams a reasoning model’s thinking in chunks before its answer, as additional_kwargs.reasoning_content', async () => {
    const { chat, stack } = await start();
    const thinking = 'The capital of France is asked for; that is Paris.';
    stack.fake.enqueue({ type: 'answer', reasoning: thinking, content: 'Paris.', chunks: 3 });
    const order: string[] = [];
    let reasoning = '';
    let content = '';
    for await (const chunk of await chat.stream([new HumanMessage('Capital of France?')])) {
      const piece = chunk.additional_kwargs['reasoning_content'];
      if (typeof piece === 'string' && piece !== '') {
        order.push('reasoning');
        reasoning += piece;
      }
      if (typeof chunk.content === 'string' && chunk.content !== '') {
        order.push('content');
        content += chunk.content;
      }
    }
    expect(reasoning).toBe(thinking);
    expect(content).toBe('Paris.');
    // Every piece of the thinking came before the first piece of the answer, and none came again after it.
    expect(order.filter((kind) => kind === 'reasoning').length).toBeGreaterThan(1);
    expect(order.lastIndexOf('reasoning')).toBeLessThan(order.indexOf('content'));
  });

  it('returns structured output by function calling', async () => {
    const { chat, stack } = await start();
    stack.fake.enqueue({ type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] });
    const structured = chat.withStructuredOutput(weatherSchema, { name: 'weather', method: 'functionCalling' });
    expect(await structured.invoke('Which city?')).toEqual({ city: 'Oslo' });
    expect(stack.upstreamBodies()[0]).toMatchObject({
      tools: [{ type: 'function', function: { name: 'weather' } }],
      tool_choice: { type: 'function', function: { name: 'weather' } },
    });
  });

  it('returns structured output by JSON schema', async () => {
    const { chat, stack } = await start();
    stack.fake.enqueue({ type: 'answer', json: { city: 'Lima' } });
    const structured = chat.withStructuredOutput(weatherSchema, { name: 'weather', method: 'jsonSchema' });
    expect(await structured.invoke('Which city?')).toEqual({ city: 'Lima' });
    expect(stack.upstreamBodies()[0]).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'weather' } } });
  });

  it('keeps an earlier assistant turn and its tool call when the history is replayed', async () => {
    const { chat, stack } = await start();
    stack.fake.enqueue({ type: 'answer', content: 'Done.' });
    const history = [
      new HumanMessage('Weather?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'call_h', name: 'weather', args: { city: 'Bern' } }] }),
      new ToolMessage({ tool_call_id: 'call_h', content: 'cold' }),
    ];
    expect((await chat.invoke(history)).content).toBe('Done.');
    expect(stack.upstreamBodies()[0]?.['messages']).toMatchObject([
      { role: 'user' },
      { role: 'assistant', tool_calls: [{ id: 'call_h' }] },
      { role: 'tool', tool_call_id: 'call_h' },
    ]);
  });

  it('embeds documents and a query with OpenAIEmbeddings, with dimensions and either encoding', async () => {
    const { stack } = await start();
    const options = {
      model: 'text-embedding-3-small',
      apiKey: STACK_API_KEY,
      maxRetries: 0,
      configuration: { baseURL: stack.baseUrl, fetch: checker.fetch },
    };
    const documents = await new OpenAIEmbeddings({ ...options, dimensions: 256 }).embedDocuments(['first text', 'second text']);
    expect(documents.map((vector) => vector.length)).toEqual([256, 256]);
    const query = await new OpenAIEmbeddings({ ...options, encodingFormat: 'float' }).embedQuery('a question');
    expect(query).toHaveLength(1536);
  });
});
