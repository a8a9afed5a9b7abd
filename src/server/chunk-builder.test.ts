import { describe, expect, it } from 'vitest';
import { completionOf } from '../llm/model/completion-of.js';
import type { ChatChoice, ChatCompletion } from '../llm/types.js';
import { ChunkBuilder } from './chunk-builder.js';
import type { ServiceStreamEvent } from './service-backend.js';

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

  it('streams reasoning as reasoning_content deltas, and sends at the end only what of it was not streamed', () => {
    const chunks = new ChunkBuilder(identity, 'm', false);
    const done = answer('m', [
      {
        index: 0,
        message: { content: 'Hi.', passthrough: { reasoning: 'Think more.', reasoning_content: 'Think more.', audio: { id: 'a' } } },
        finishReason: 'stop',
      },
      { index: 1, message: { content: 'Yo.', passthrough: { reasoning_content: 'Other.' } }, finishReason: 'stop' },
    ]);
    expect([
      ...chunks.start(),
      ...chunks.chunks({ type: 'reasoning-delta', text: 'Think' }),
      ...chunks.chunks({ type: 'reasoning-delta', text: '', choice: 0 }),
      ...chunks.chunks({ type: 'delta', text: 'Hi.' }),
      ...chunks.chunks({ type: 'reasoning-delta', text: 'Other.', choice: 1 }),
      ...chunks.chunks({ type: 'delta', text: 'Yo.', choice: 1 }),
      ...chunks.finish(done),
    ]).toEqual([
      chunk('m', [piece(0, role)]),
      chunk('m', [piece(0, { reasoning_content: 'Think' })]),
      chunk('m', [piece(0, { content: 'Hi.' })]),
      chunk('m', [piece(1, role)]),
      chunk('m', [piece(1, { reasoning_content: 'Other.' })]),
      chunk('m', [piece(1, { content: 'Yo.' })]),
      // The rest of the reasoning, under the names the answer has it; the other fields as they are.
      chunk('m', [piece(0, { reasoning: ' more.', reasoning_content: ' more.', audio: { id: 'a' } })]),
      chunk('m', [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
      chunk('m', [{ index: 1, delta: {}, logprobs: null, finish_reason: 'stop' }]),
    ]);
  });

  it('leaves out a model that is not there, as JSON.stringify of the chunk object does, rather than writing undefined', () => {
    const chunks = new ChunkBuilder(identity, undefined as unknown as string, false);
    const [first] = chunks.start();
    expect(first).toBe(JSON.stringify({ ...base, choices: [piece(0, role)] }));
  });

  describe('gives the text JSON.stringify gives of the chunk objects OpenAI streams', () => {
    /** The fields of the answer's service, by which of them the answer has. */
    const services = {
      none: {},
      fingerprint: { systemFingerprint: 'fp_"1"' },
      tier: { serviceTier: 'priority' },
      both: { systemFingerprint: 'fp_2', serviceTier: 'default' },
    } satisfies Record<string, Partial<ChatCompletion>>;
    const escaped = { id: 'chatcmpl-"x"\\\n\u2028', created: 1_700_000_001 };
    const logprobs = { content: [{ token: 'a', logprob: -0.5, bytes: [97], topLogprobs: [] }], refusal: null };
    const openAiLogprobs = { content: [{ token: 'a', logprob: -0.5, bytes: [97], top_logprobs: [] }], refusal: null };
    const done = (service: Partial<ChatCompletion>): ChatCompletion =>
      answer('m-2024', [{ index: 0, message: { content: 'hi' }, finishReason: 'length' }], service);

    /** The chunks one stream's events make, serialised whole from objects, as a reference. */
    function reference(id: string, created: number, includeUsage: boolean, service: Partial<ChatCompletion>) {
      const usageNull = includeUsage ? { usage: null } : {};
      const fields = {
        ...(service.systemFingerprint === undefined ? {} : { system_fingerprint: service.systemFingerprint }),
        ...(service.serviceTier === undefined ? {} : { service_tier: service.serviceTier }),
      };
      const head = (model: string) => ({ id, object: 'chat.completion.chunk', created, model });
      const choice = (index: unknown, delta: object, logprobs: unknown = null, finish: unknown = null, model = 'm') =>
        JSON.stringify({ ...head(model), choices: [{ index, delta, logprobs, finish_reason: finish }], ...usageNull });
      return {
        role: (index: unknown = 0) => choice(index, role),
        delta: (index: unknown, delta: object) => choice(index, delta),
        logprobs: (index: number) => choice(index, {}, openAiLogprobs),
        finish: (reason: string, model: string) =>
          JSON.stringify({
            ...head(model),
            choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reason }],
            ...usageNull,
            ...fields,
          }),
        usage: (model: string) => JSON.stringify({ ...head(model), ...fields, choices: [], usage: openAiUsage }),
      };
    }

    type Reference = ReturnType<typeof reference>;
    const kinds: Record<
      string,
      { events: (service: Partial<ChatCompletion>) => ServiceStreamEvent[]; expected: (r: Reference, u: boolean) => string[] }
    > = {
      role: { events: () => [], expected: (r) => [r.role()] },
      text: { events: () => [{ type: 'delta', text: 'a "b"' }], expected: (r) => [r.role(), r.delta(0, { content: 'a "b"' })] },
      refusal: {
        events: () => [{ type: 'refusal-delta', text: 'no\n', choice: 1 }],
        expected: (r) => [r.role(), r.role(1), r.delta(1, { refusal: 'no\n' })],
      },
      'tool call start': {
        events: () => [{ type: 'tool-call-delta', index: 2, id: 'call_"1"', name: 'f', arguments: '' }],
        expected: (r) => [
          r.role(),
          r.delta(0, { tool_calls: [{ index: 2, id: 'call_"1"', type: 'function', function: { name: 'f', arguments: '' } }] }),
        ],
      },
      'tool call arguments': {
        events: () => [
          { type: 'tool-call-delta', index: 0, id: 'call_1', name: 'f', arguments: '{"q":' },
          { type: 'tool-call-delta', index: 0, arguments: '"\\"}' },
        ],
        expected: (r) => [
          r.role(),
          r.delta(0, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }),
          r.delta(0, { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
          r.delta(0, { tool_calls: [{ index: 0, function: { arguments: '"\\"}' } }] }),
        ],
      },
      logprobs: { events: () => [{ type: 'logprobs-delta', logprobs }], expected: (r) => [r.role(), r.logprobs(0)] },
      'finish and usage': {
        events: (service) => [
          { type: 'delta', text: 'hi' },
          { type: 'done', completion: done(service) },
        ],
        expected: (r, u) => [r.role(), r.delta(0, { content: 'hi' }), r.finish('length', 'm-2024'), ...(u ? [r.usage('m-2024')] : [])],
      },
      'a choice index that is not an integer': {
        events: () => [{ type: 'delta', text: 'a', choice: Number.POSITIVE_INFINITY }],
        expected: (r) => [r.role(), r.role(Number.POSITIVE_INFINITY), r.delta(Number.POSITIVE_INFINITY, { content: 'a' })],
      },
      'a text that is not there': {
        events: () => [{ type: 'delta', text: undefined as unknown as string }],
        expected: (r) => [r.role(), r.delta(0, {})],
      },
    };

    const rows = [false, true].flatMap((includeUsage) =>
      Object.keys(services).flatMap((service) =>
        Object.keys(kinds).flatMap((kind) => [
          { includeUsage, service, kind, identity },
          ...(kind === 'role' || kind === 'finish and usage' ? [{ includeUsage, service, kind, identity: escaped }] : []),
        ]),
      ),
    );

    it.each(rows)(
      'include_usage $includeUsage, service fields $service: $kind (id $identity.id)',
      ({ includeUsage, service, kind, identity }) => {
        const fields = services[service as keyof typeof services];
        const row = kinds[kind]!;
        const chunks = new ChunkBuilder(identity, 'm', includeUsage);
        const text = [...chunks.start(), ...row.events(fields).flatMap((event) => chunks.chunks(event))];
        expect(text).toEqual(row.expected(reference(identity.id, identity.created, includeUsage, fields), includeUsage));
        for (const line of text) expect(() => JSON.parse(line)).not.toThrow();
      },
    );
  });
});
