import { describe, expect, it } from 'vitest';
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
});
