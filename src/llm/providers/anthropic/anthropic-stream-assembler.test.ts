import { readFileSync } from 'node:fs';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import type { ChatStreamEvent } from '../../types.js';
import { AnthropicStreamAssembler } from './anthropic-stream-assembler.js';

/** A stream's events, one JSON object a line, in the shape Anthropic sends them. */
function replay(fixture: string, answerTool?: string): { events: ChatStreamEvent[]; assembler: AnthropicStreamAssembler } {
  const assembler = new AnthropicStreamAssembler('claude', answerTool);
  const events = readFileSync(new URL(`./__fixtures__/${fixture}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => assembler.accept(JSON.parse(line) as RawMessageStreamEvent));
  return { events, assembler };
}

describe('AnthropicStreamAssembler', () => {
  it('streams thinking as reasoning deltas, then text, then tool calls as OpenAI-style deltas, keeping thinking out of the text', () => {
    const { events } = replay('anthropic-tool-use.chunks.txt');
    expect(events).toEqual([
      { type: 'reasoning-delta', text: 'The user wants the weather.', choice: 0 },
      { type: 'delta', text: 'Okay, let me ', choice: 0 },
      { type: 'delta', text: 'check the weather.', choice: 0 },
      { type: 'tool-call-delta', choice: 0, index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '' },
      { type: 'tool-call-delta', choice: 0, index: 0, arguments: '{"location": "San Fra' },
      { type: 'tool-call-delta', choice: 0, index: 0, arguments: 'ncisco, CA", ' },
      { type: 'tool-call-delta', choice: 0, index: 0, arguments: '"unit": "fah' },
      { type: 'tool-call-delta', choice: 0, index: 0, arguments: 'renheit"}' },
      { type: 'tool-call-delta', choice: 0, index: 1, id: 'toolu_02Abc', name: 'get_time', arguments: '' },
    ]);
  });

  it('assembles the answer: tool calls (no input streamed: {}), thinking apart, usage with cache reads and writes', () => {
    const { assembler } = replay('anthropic-tool-use.chunks.txt');
    expect(assembler.stopped).toBe(true);
    const completion = assembler.completion();
    expect(completion).toMatchObject({ id: 'msg_01XFDUDYJgAACzvnptvVoYEL', model: 'claude-sonnet-4-5-20250929', serviceTier: 'standard' });
    expect(completion.choices[0]).toEqual({
      index: 0,
      message: {
        content: 'Okay, let me check the weather.',
        toolCalls: [
          {
            id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
            type: 'function',
            name: 'get_weather',
            arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}',
          },
          { id: 'toolu_02Abc', type: 'function', name: 'get_time', arguments: '{}' },
        ],
        passthrough: { reasoning_content: 'The user wants the weather.' },
        reasoning: [
          {
            type: 'thinking',
            provider: 'anthropic',
            text: 'The user wants the weather.',
            signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
          },
        ],
      },
      finishReason: 'tool_calls',
    });
    expect(completion.usage).toEqual({
      promptTokens: 472 + 100 + 2048,
      completionTokens: 89,
      totalTokens: 472 + 100 + 2048 + 89,
      cachedPromptTokens: 2048,
      cacheWritePromptTokens: 100,
    });
  });

  it('keeps redacted thinking blocks, in order with the signed ones', () => {
    const assembler = new AnthropicStreamAssembler('claude', undefined);
    const events: RawMessageStreamEvent[] = [
      { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'Hmm.' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 1 },
    ];
    expect(events.flatMap((event) => assembler.accept(event))).toEqual([{ type: 'reasoning-delta', text: 'Hmm.', choice: 0 }]);
    expect(assembler.completion().choices[0]?.message.reasoning).toEqual([
      { type: 'redacted', provider: 'anthropic', data: 'EmwKAhgBEgy3va3pzix' },
      { type: 'thinking', provider: 'anthropic', text: 'Hmm.', signature: 'sig' },
    ]);
  });

  it('treats the structured-output tool’s input as the answer’s text', () => {
    const { events, assembler } = replay('anthropic-tool-use.chunks.txt', 'get_weather');
    expect(events.filter((event) => event.type === 'tool-call-delta').map((event) => event.index)).toEqual([0]);
    const message = assembler.completion().choices[0]?.message;
    expect(message?.content).toBe('{"location": "San Francisco, CA", "unit": "fahrenheit"}');
    expect(message?.toolCalls?.map((call) => call.name)).toEqual(['get_time']);
  });

  it('returns a refusal stop as an answer with the text written before it', () => {
    const { assembler } = replay('anthropic-refusal.chunks.txt');
    expect(assembler.completion().choices[0]).toEqual({ index: 0, message: { content: 'Here is how to' }, finishReason: 'content_filter' });
  });

  it('is not stopped before message_stop (a stream cut short)', () => {
    const assembler = new AnthropicStreamAssembler('claude', undefined);
    assembler.accept({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 1 },
    } as RawMessageStreamEvent);
    expect(assembler.stopped).toBe(false);
  });
});
