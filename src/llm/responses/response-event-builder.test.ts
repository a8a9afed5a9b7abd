import { describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import type { ChatCompletion } from '../types.js';
import { ResponseEventBuilder } from './response-event-builder.js';
import { ResponseEnvelope } from './response-object.js';

describe('ResponseEventBuilder', () => {
  it('gives a streamed function call the id and name that came after its first delta', () => {
    const builder = new ResponseEventBuilder(new ResponseEnvelope({ model: 'm', input: 'hi' }), 'm');
    builder.start();
    // A compatible server may name the call's id and function only in a later chunk.
    const events = [
      ...builder.push({ type: 'tool-call-delta', index: 0, id: '', name: '', arguments: '{"city":' }),
      ...builder.push({ type: 'tool-call-delta', index: 0, id: 'call_1', name: 'weather', arguments: '"Oslo"}' }),
    ];
    const completion = {
      content: '',
      model: 'm',
      finishReason: 'tool_calls',
      toolCalls: [{ id: 'call_1', type: 'function', name: 'weather', arguments: '{"city":"Oslo"}' }],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    } as ChatCompletion;
    events.push(...builder.finish(completion));
    const done = events.find((event) => event.type === 'response.output_item.done');
    expect(done?.['item']).toMatchObject({ call_id: 'call_1', name: 'weather', arguments: '{"city":"Oslo"}' });
    expect(events.find((event) => event.type === 'response.function_call_arguments.done')).toMatchObject({ name: 'weather' });
    const final = events.at(-1)?.['response'] as { output: unknown[] };
    expect(final.output).toEqual([expect.objectContaining({ type: 'function_call', call_id: 'call_1', name: 'weather' })]);
  });

  it('adds the URL citations of a text that tool calls followed to its item once the answer ends', () => {
    const builder = new ResponseEventBuilder(new ResponseEnvelope({ model: 'm', input: 'hi' }), 'm');
    const events = [
      ...builder.start(),
      ...builder.push({ type: 'delta', text: 'See a.example.' }),
      ...builder.push({ type: 'tool-call-delta', index: 0, id: 'call_1', name: 'open', arguments: '{}' }),
    ];
    const citation = { start_index: 4, end_index: 13, url: 'https://a.example/', title: 'A' };
    const completion = {
      provider: 'openai-compatible',
      model: 'm',
      content: 'See a.example.',
      finishReason: 'tool_calls',
      toolCalls: [{ id: 'call_1', type: 'function', name: 'open', arguments: '{}' }],
      choices: [
        {
          index: 0,
          message: { content: 'See a.example.', passthrough: { annotations: [{ type: 'url_citation', url_citation: citation }] } },
          finishReason: 'tool_calls',
        },
      ],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    } as ChatCompletion;
    events.push(...builder.finish(completion));
    const added = events.filter((event) => event.type === 'response.output_text.annotation.added');
    expect(added).toEqual([expect.objectContaining({ output_index: 0, content_index: 0, annotation_index: 0 })]);
    expect(events.indexOf(added[0]!)).toBeGreaterThan(events.findIndex((event) => event.type === 'response.function_call_arguments.done'));
    expect(validateOpenAiSchema('ResponseOutputTextAnnotationAddedEvent', added[0])).toEqual([]);
    const final = events.at(-1)?.['response'] as { output: Array<{ content?: unknown }> };
    expect(final.output[0]?.content).toEqual([
      { type: 'output_text', text: 'See a.example.', annotations: [{ type: 'url_citation', ...citation }], logprobs: [] },
    ]);
    expect(validateOpenAiSchema('Response', events.at(-1)?.['response'])).toEqual([]);
  }, 180_000);

  it('streams reasoning deltas into a reasoning item, and sends once the answer ends only what of its reasoning was not streamed', () => {
    const builder = new ResponseEventBuilder(new ResponseEnvelope({ model: 'm', input: 'hi' }), 'm');
    const events = [
      ...builder.start(),
      ...builder.push({ type: 'reasoning-delta', text: 'Think' }),
      ...builder.push({ type: 'reasoning-delta', text: 'Other choice.', choice: 1 }),
      ...builder.push({ type: 'reasoning-delta', text: ' hard' }),
      ...builder.push({ type: 'delta', text: 'Hi.' }),
    ];
    const completion = {
      provider: 'openai-compatible',
      model: 'm',
      content: 'Hi.',
      finishReason: 'stop',
      choices: [
        { index: 0, message: { content: 'Hi.', passthrough: { reasoning_content: 'Think hard, then answer.' } }, finishReason: 'stop' },
      ],
      usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    } as ChatCompletion;
    events.push(...builder.finish(completion));
    const reasoning = events.flatMap((event) => (event.type === 'response.reasoning_text.delta' ? [event['delta']] : []));
    expect(reasoning).toEqual(['Think', ' hard', ', then answer.']);
    const final = events.at(-1)?.['response'] as { output: Array<Record<string, unknown>> };
    expect(final.output.map((item) => item['type'])).toEqual(['reasoning', 'message', 'reasoning']);
    expect(final.output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'Think hard' }] });
    expect(final.output[2]).toMatchObject({ content: [{ type: 'reasoning_text', text: ', then answer.' }] });
    for (const event of events) expect(validateOpenAiSchema('ResponseStreamEvent', event)).toEqual([]);
  });
});
