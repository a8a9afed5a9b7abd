import { readFileSync } from 'node:fs';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError } from '../../../errors/provider-errors.js';
import type { ChatStreamEvent } from '../../types.js';
import { OpenAiStreamAssembler } from './openai-stream-assembler.js';

/** A stream's chunks, one JSON object a line, in the shape OpenAI sends them. */
function chunks(fixture: string): ChatCompletionChunk[] {
  return readFileSync(new URL(`./__fixtures__/${fixture}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ChatCompletionChunk);
}

function replay(fixture: string): { events: ChatStreamEvent[]; assembler: OpenAiStreamAssembler } {
  const assembler = new OpenAiStreamAssembler('gpt-4o');
  const events = chunks(fixture).flatMap((chunk) => assembler.accept(chunk));
  return { events, assembler };
}

describe('OpenAiStreamAssembler', () => {
  it('assembles parallel tool calls whose arguments are split across chunks, skipping empty deltas', () => {
    const { events, assembler } = replay('openai-tool-calls.chunks.txt');
    expect(events.every((event) => event.type === 'tool-call-delta')).toBe(true);
    expect(events[0]).toEqual({
      type: 'tool-call-delta',
      choice: 0,
      index: 0,
      id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA',
      name: 'get_weather',
      arguments: '',
    });
    expect(events[1]).toEqual({ type: 'tool-call-delta', choice: 0, index: 0, arguments: '{"' });
    expect(events).toHaveLength(1 + 6 + 1 + 3);
    expect(assembler.finished).toBe(true);
    const completion = assembler.completion();
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          content: null,
          toolCalls: [
            { id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', type: 'function', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
            { id: 'call_aGm3KxO9zVd0mPXq1B2cR7sT', type: 'function', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
          ],
        },
        finishReason: 'tool_calls',
      },
    ]);
  });

  it('takes usage from the last chunk, which has no choices, and the answer-level fields from any', () => {
    const completion = replay('openai-tool-calls.chunks.txt').assembler.completion();
    expect(completion).toMatchObject({
      id: 'chatcmpl-B9x2',
      created: 1741569952,
      model: 'gpt-4o-2024-08-06',
      systemFingerprint: 'fp_eb9dce56a8',
      serviceTier: 'default',
    });
    expect(completion.usage).toEqual({
      promptTokens: 82,
      completionTokens: 41,
      totalTokens: 123,
      cachedPromptTokens: 64,
      audioPromptTokens: 0,
      reasoningTokens: 0,
      audioCompletionTokens: 0,
      acceptedPredictionTokens: 0,
      rejectedPredictionTokens: 0,
    });
  });

  it('names the answer from the first chunk that does, past Azure’s prompt-filter chunk with an empty id and created 0', () => {
    const assembler = new OpenAiStreamAssembler('gpt-4o', 'azure');
    const filter = {
      choices: [],
      created: 0,
      id: '',
      model: '',
      object: '',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }],
    } as unknown as ChatCompletionChunk;
    expect(assembler.accept(filter)).toEqual([]);
    expect([assembler.id, assembler.created]).toEqual([undefined, undefined]);
    const role: ChatCompletionChunk = {
      id: 'chatcmpl-AzF1',
      object: 'chat.completion.chunk',
      created: 1741570000,
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    };
    assembler.accept(role);
    assembler.accept({ ...role, created: 1741570001, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] });
    expect([assembler.id, assembler.created]).toEqual(['chatcmpl-AzF1', 1741570000]);
    expect(assembler.completion()).toMatchObject({ id: 'chatcmpl-AzF1', created: 1741570000 });
  });

  it('takes as the creation time only whole seconds, not a compatible server’s fraction of one', () => {
    const assembler = new OpenAiStreamAssembler('llama3.1', 'openai-compatible');
    const chunk = (created: number): ChatCompletionChunk => ({
      id: 'chatcmpl-local',
      object: 'chat.completion.chunk',
      created,
      model: 'llama3.1',
      choices: [{ index: 0, delta: { content: 'hi' }, logprobs: null, finish_reason: null }],
    });
    assembler.accept(chunk(1741570000.123));
    expect(assembler.created).toBeUndefined();
    assembler.accept(chunk(1741570001));
    expect(assembler.created).toBe(1741570001);
    expect(assembler.completion()).toMatchObject({ id: 'chatcmpl-local', created: 1741570001 });
  });

  it('keeps choices apart by index, with their log probabilities and finish reasons', () => {
    const { events, assembler } = replay('openai-two-choices.chunks.txt');
    expect(events.filter((event) => event.type === 'delta')).toEqual([
      { type: 'delta', text: 'Hello', choice: 0 },
      { type: 'delta', text: 'Bonjour', choice: 1 },
      { type: 'delta', text: '!', choice: 0 },
    ]);
    expect(events.filter((event) => event.type === 'logprobs-delta')).toHaveLength(3);
    const [first, second] = assembler.completion().choices;
    expect(first).toMatchObject({ index: 0, message: { content: 'Hello!' }, finishReason: 'stop' });
    expect(first?.logprobs?.content?.map((token) => token.token)).toEqual(['Hello', '!']);
    expect(second).toMatchObject({ index: 1, message: { content: 'Bonjour' }, finishReason: 'length' });
    expect(second?.logprobs?.content?.[0]).toEqual({
      token: 'Bonjour',
      logprob: -0.31,
      bytes: [...Buffer.from('Bonjour')],
      topLogprobs: [],
    });
  });

  it('streams a refusal as refusal deltas and returns it as the answer', () => {
    const { events, assembler } = replay('openai-refusal.chunks.txt');
    expect(events.map((event) => event.type)).toEqual(['refusal-delta', 'refusal-delta', 'refusal-delta']);
    expect(assembler.completion().choices[0]).toEqual({
      index: 0,
      message: { content: null, refusal: "I'm sorry, I can't help with that." },
      finishReason: 'stop',
    });
  });

  it('is not finished while a choice has no finish reason (a stream cut short)', () => {
    const assembler = new OpenAiStreamAssembler('gpt-4o');
    const all = chunks('openai-two-choices.chunks.txt');
    for (const chunk of all.slice(0, 7)) assembler.accept(chunk);
    expect(assembler.finished).toBe(false);
    expect(new OpenAiStreamAssembler('gpt-4o').finished).toBe(false);
  });

  it.each([
    ['an index past the range of a double', '{"index":1e400,"delta":{"content":"a"}}', 'choice index is Infinity'],
    ['a negative index', '{"index":-1,"delta":{"content":"a"}}', 'choice index is -1'],
    ['a fractional index', '{"index":0.5,"delta":{"content":"a"}}', 'choice index is 0.5'],
    ['an index given as a string', '{"index":"1","delta":{"content":"a"}}', 'choice index is "1"'],
    ['a tool call index past the range', '{"index":0,"delta":{"tool_calls":[{"index":1e400}]}}', 'tool call index is Infinity'],
  ])('fails the stream on %s, naming it and the upstream', (_name, choice, message) => {
    const chunk = JSON.parse(`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[${choice}]}`);
    const accept = () => new OpenAiStreamAssembler('gpt-4o', 'azure').accept(chunk);
    expect(accept).toThrow(MalformedResponseError);
    expect(accept).toThrow(message);
    expect(accept).toThrow(expect.objectContaining({ provider: 'azure', model: 'm' }));
  });

  it('takes a missing choice index as 0 and a missing tool call index as the next one', () => {
    const assembler = new OpenAiStreamAssembler('gpt-4o');
    const events = assembler.accept({
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [{ delta: { tool_calls: [{ id: 'call_1', function: { name: 'f', arguments: '' } }] } }],
    } as unknown as ChatCompletionChunk);
    expect(events).toEqual([{ type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', name: 'f', arguments: '' }]);
  });
  it('gathers unmodelled delta fields per choice into passthrough: strings joined, arrays added, objects merged', () => {
    const assembler = new OpenAiStreamAssembler('deepseek-reasoner');
    const piece = (index: number, delta: Record<string, unknown>, finish: string | null = null) =>
      ({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index, delta, logprobs: null, finish_reason: finish }],
      }) as unknown as ChatCompletionChunk;
    const events = [
      piece(0, { role: 'assistant', content: null, reasoning_content: 'Think' }),
      piece(0, { content: null, reasoning_content: 'ing…' }),
      piece(1, { reasoning_content: 'Other.' }),
      piece(0, { content: 'Hi', reasoning_content: null, audio: { id: 'audio_1', transcript: 'Hi', data: 'AAA' } }),
      piece(0, { audio: { transcript: ' there', data: 'BBB', expires_at: 9 } }),
      piece(0, { annotations: [{ type: 'url_citation', url_citation: { url: 'https://a.example' } }] }),
      piece(0, { annotations: [{ type: 'url_citation', url_citation: { url: 'https://b.example' } }] }, 'stop'),
      piece(1, {}, 'stop'),
    ].flatMap((chunk) => assembler.accept(chunk));
    // The reasoning's text is also given as it comes, per choice; the other fields only whole.
    expect(events).toEqual([
      { type: 'reasoning-delta', text: 'Think', choice: 0 },
      { type: 'reasoning-delta', text: 'ing…', choice: 0 },
      { type: 'reasoning-delta', text: 'Other.', choice: 1 },
      { type: 'delta', text: 'Hi', choice: 0 },
    ]);
    const [first, second] = assembler.completion().choices;
    expect(first?.message).toEqual({
      content: 'Hi',
      passthrough: {
        reasoning_content: 'Thinking…',
        audio: { id: 'audio_1', transcript: 'Hi there', data: 'AAABBB', expires_at: 9 },
        annotations: [
          { type: 'url_citation', url_citation: { url: 'https://a.example' } },
          { type: 'url_citation', url_citation: { url: 'https://b.example' } },
        ],
      },
    });
    expect(second?.message.passthrough).toEqual({ reasoning_content: 'Other.' });
  });
  it('merges streamed pieces of indexed entries into one entry per index, as tool_calls stream, instead of piling them up', () => {
    const assembler = new OpenAiStreamAssembler('anthropic/claude-sonnet-4');
    const piece = (delta: Record<string, unknown>, finish: string | null = null) =>
      ({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      }) as unknown as ChatCompletionChunk;
    const detail = (fields: Record<string, unknown>) => ({ type: 'reasoning.text', format: 'anthropic-claude-v1', index: 0, ...fields });
    for (const text of ['Let ', 'me ', 'think.']) assembler.accept(piece({ reasoning: text, reasoning_details: [detail({ text })] }));
    assembler.accept(piece({ reasoning_details: [detail({ signature: 'sig' })] }));
    assembler.accept(piece({ content: 'Hi' }, 'stop'));
    expect(assembler.completion().choices[0]?.message.passthrough).toEqual({
      reasoning: 'Let me think.',
      reasoning_details: [detail({ text: 'Let me think.', signature: 'sig' })],
    });
  });
  it('streams `reasoning` pieces as reasoning deltas, and a piece sent under both names once', () => {
    const assembler = new OpenAiStreamAssembler('qwen3');
    const piece = (delta: Record<string, unknown>, finish: string | null = null) =>
      ({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      }) as unknown as ChatCompletionChunk;
    const events = [
      piece({ role: 'assistant', reasoning: 'Let ' }),
      piece({ reasoning: 'me ', reasoning_content: 'me ' }),
      piece({ reasoning: '', content: '' }),
      piece({ content: 'Hi' }, 'stop'),
    ].flatMap((chunk) => assembler.accept(chunk));
    expect(events).toEqual([
      { type: 'reasoning-delta', text: 'Let ', choice: 0 },
      { type: 'reasoning-delta', text: 'me ', choice: 0 },
      { type: 'delta', text: 'Hi', choice: 0 },
    ]);
    expect(assembler.completion().choices[0]?.message.passthrough).toEqual({ reasoning: 'Let me ', reasoning_content: 'me ' });
  });
});
