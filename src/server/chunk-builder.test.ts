import { describe, expect, it } from 'vitest';
import { completionOf } from '../llm/model/completion-of.js';
import type { ChatChoice, ChatCompletion } from '../llm/types.js';
import { ChunkBuilder } from './chunk-builder.js';

const identity = { id: 'chatcmpl-1', created: 1_700_000_000 };
const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000 };
const usage = { promptTokens: 11, completionTokens: 7, totalTokens: 18, cachedPromptTokens: 2 };
const openAiUsage = {
  prompt_tokens: 11,
  completion_tokens: 7,
  total_tokens: 18,
  prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

function answer(model: string, choices: ChatChoice[], extra: Partial<ChatCompletion> = {}): ChatCompletion {
  return completionOf({ provider: 'openai', model, choices, usage, ...extra });
}

/** A chunk as `JSON.stringify` writes the object OpenAI streams: the builder must give the same text, key for key. */
function chunk(model: string, choices: object[], after: object = {}): string {
  return JSON.stringify({ ...base, model, choices, ...after });
}

function piece(index: number, delta: object) {
  return { index, delta, logprobs: null, finish_reason: null };
}

const role = { role: 'assistant', content: '' };

describe('ChunkBuilder', () => {
  it('serialises text deltas as whole chunks, escaping what JSON escapes', () => {
    const chunks = new ChunkBuilder(identity, 'm"odel', false);
    const text = 'say "hi"\n\\ \u2028 é 😀 </script>';
    expect([...chunks.start(), ...chunks.chunks({ type: 'delta', text }), ...chunks.chunks({ type: 'delta', text: '' })]).toEqual([
      chunk('m"odel', [piece(0, role)]),
      chunk('m"odel', [piece(0, { content: text })]),
    ]);
  });

  it('with include_usage, ends every chunk with usage: null and sends the usage chunk last', () => {
    const chunks = new ChunkBuilder(identity, 'gpt-4o-mini', true);
    const done = answer('gpt-4o-mini-2024', [{ index: 0, message: { content: 'ok' }, finishReason: 'stop' }], {
      systemFingerprint: 'fp_1',
      serviceTier: 'default',
    });
    const service = { system_fingerprint: 'fp_1', service_tier: 'default' };
    expect([
      ...chunks.start(),
      ...chunks.chunks({ type: 'delta', text: 'ok' }),
      ...chunks.chunks({ type: 'done', completion: done }),
    ]).toEqual([
      chunk('gpt-4o-mini', [piece(0, role)], { usage: null }),
      chunk('gpt-4o-mini', [piece(0, { content: 'ok' })], { usage: null }),
      chunk('gpt-4o-mini-2024', [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], { usage: null, ...service }),
      JSON.stringify({ ...base, model: 'gpt-4o-mini-2024', ...service, choices: [], usage: openAiUsage }),
    ]);
  });

  it('streams refusals, tool calls (first piece with id and name) and logprobs per choice, starting each choice once', () => {
    const chunks = new ChunkBuilder(identity, 'm', false);
    const logprobs = { content: [{ token: 'a', logprob: -0.5, bytes: [97], topLogprobs: [] }], refusal: null };
    expect([
      ...chunks.start(),
      ...chunks.chunks({ type: 'refusal-delta', text: 'no', choice: 1 }),
      ...chunks.chunks({ type: 'tool-call-delta', choice: 0, index: 0, id: 'call_1', name: 'lookup', arguments: '{"q":' }),
      ...chunks.chunks({ type: 'tool-call-delta', choice: 0, index: 0, arguments: '1}' }),
      ...chunks.chunks({ type: 'logprobs-delta', choice: 2, logprobs }),
    ]).toEqual([
      chunk('m', [piece(0, role)]),
      chunk('m', [piece(1, role)]),
      chunk('m', [piece(1, { refusal: 'no' })]),
      chunk('m', [piece(0, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] })]),
      chunk('m', [piece(0, { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] })]),
      chunk('m', [piece(0, { tool_calls: [{ index: 0, function: { arguments: '1}' } }] })]),
      chunk('m', [piece(2, role)]),
      chunk('m', [
        {
          index: 2,
          delta: {},
          logprobs: { content: [{ token: 'a', logprob: -0.5, bytes: [97], top_logprobs: [] }], refusal: null },
          finish_reason: null,
        },
      ]),
    ]);
  });

  it('sends from the final answer what the events did not stream, before each choice finishes', () => {
    const chunks = new ChunkBuilder(identity, 'm', false);
    const done = answer('m', [
      { index: 0, message: { content: 'cached text', refusal: 'no' }, finishReason: 'stop' },
      {
        index: 1,
        message: { content: null, toolCalls: [{ id: 'call_2', type: 'function', name: 'f', arguments: '{}' }] },
        finishReason: 'tool_calls',
      },
    ]);
    expect([...chunks.start(), ...chunks.finish(done)]).toEqual([
      chunk('m', [piece(0, role)]),
      chunk('m', [piece(0, { content: 'cached text' })]),
      chunk('m', [piece(0, { refusal: 'no' })]),
      chunk('m', [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
      chunk('m', [piece(1, role)]),
      chunk('m', [piece(1, { tool_calls: [{ index: 0, id: 'call_2', type: 'function', function: { name: 'f', arguments: '' } }] })]),
      chunk('m', [piece(1, { tool_calls: [{ index: 0, function: { arguments: '{}' } }] })]),
      chunk('m', [{ index: 1, delta: {}, logprobs: null, finish_reason: 'tool_calls' }]),
    ]);
  });
});
