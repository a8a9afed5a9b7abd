import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { LlmStreamEvent } from '../llm/llm-client-types.js';
import type { FakeAnswer } from '../testing/fake-behaviour.js';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { type ServiceStack, startServiceStack } from './service-stack.test-helpers.js';

/*
 * A reasoning model's thinking, streamed as it thinks: through `serve`'s chat stream (read with the
 * `openai` SDK) as `reasoning_content` deltas before the answer's text, from each provider's wire,
 * from the cache, and through the library's `stream()`.
 */

const REASONING = 'The user greets me; I should greet back briefly.';
const ANSWER = 'Hello there, friend.';

interface Setup {
  model: string;
  env: (fake: FakeProviderServer) => Record<string, string>;
  /** The answer the fake gives, thinking included. */
  answer: FakeAnswer;
  /** What turns thinking on, where the provider thinks only when asked. */
  ask: { reasoning_effort?: 'low' };
}

const SETUPS: Record<string, Setup> = {
  'openai-compatible': {
    model: 'deepseek-reasoner',
    env: () => ({ LLM_PROVIDER: 'openai-compatible' }),
    answer: { type: 'answer', content: ANSWER, reasoning: REASONING, chunks: 4 },
    ask: {},
  },
  anthropic: {
    model: 'claude-sonnet-4',
    env: () => ({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-reason-secret', ANTHROPIC_MODEL: 'claude-sonnet-4' }),
    answer: { type: 'answer', content: ANSWER, thinking: REASONING, chunks: 4 },
    ask: { reasoning_effort: 'low' },
  },
  gemini: {
    model: 'gemini-2.5-flash',
    env: (fake) => ({ LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'AIza-reason-secret', GEMINI_BASE_URL: fake.geminiBaseUrl }),
    answer: { type: 'answer', content: ANSWER, reasoning: REASONING, chunks: 4 },
    ask: { reasoning_effort: 'low' },
  },
  bedrock: {
    model: 'us.deepseek.r1-v1:0',
    env: (fake) => ({
      LLM_PROVIDER: 'bedrock',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAREASON',
      AWS_SECRET_ACCESS_KEY: 'aws-reason-secret',
      BEDROCK_BASE_URL: fake.bedrockEndpoint,
    }),
    answer: { type: 'answer', content: ANSWER, reasoning: REASONING, chunks: 4 },
    ask: {},
  },
};

let stack: ServiceStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** What one streamed chunk's first choice carried, in order: reasoning pieces, content pieces, the rest by field name. */
type Piece = { reasoning: string } | { content: string } | { other: string[] };

async function streamedPieces(client: OpenAI, model: string, ask: Setup['ask']): Promise<Piece[]> {
  const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi!' }], stream: true, ...ask });
  const pieces: Piece[] = [];
  for await (const chunk of stream) {
    const delta = (chunk.choices[0]?.delta ?? {}) as Record<string, unknown>;
    const { role: _role, content, reasoning_content: reasoning, ...rest } = delta;
    if (typeof reasoning === 'string') pieces.push({ reasoning });
    if (typeof content === 'string' && content !== '') pieces.push({ content });
    const others = Object.keys(rest).filter((key) => rest[key] !== undefined);
    if (others.length > 0) pieces.push({ other: others });
  }
  return pieces;
}

/** The pieces' reasoning and text joined, and where the first text came relative to the last reasoning. */
function summary(pieces: Piece[]) {
  const reasoning = pieces.flatMap((piece) => ('reasoning' in piece ? [piece.reasoning] : []));
  const firstContent = pieces.findIndex((piece) => 'content' in piece);
  const lastReasoning = pieces.findLastIndex((piece) => 'reasoning' in piece);
  return {
    reasoning: reasoning.join(''),
    reasoningPieces: reasoning.length,
    content: pieces.flatMap((piece) => ('content' in piece ? [piece.content] : [])).join(''),
    reasoningBeforeContent: lastReasoning >= 0 && lastReasoning < firstContent,
  };
}

describe.each(Object.keys(SETUPS))('serve’s chat stream in front of %s', (name) => {
  const setup = SETUPS[name]!;

  it('streams the reasoning as reasoning_content deltas before the first content delta, and only once', async () => {
    stack = await startServiceStack(setup.env);
    stack.fake.setHandler(() => setup.answer);
    const pieces = await streamedPieces(stack.client, setup.model, setup.ask);
    expect(summary(pieces)).toEqual({ reasoning: REASONING, reasoningPieces: 4, content: ANSWER, reasoningBeforeContent: true });
    // A whole answer still carries it as before.
    const whole = await stack.client.chat.completions.create({
      model: setup.model,
      messages: [{ role: 'user', content: 'Hi!' }],
      ...setup.ask,
    });
    expect(whole.choices[0]?.message).toMatchObject({ reasoning_content: REASONING });
  });
});

describe('serve’s chat stream', () => {
  it('streams a server’s `reasoning` deltas as reasoning_content, not sent again under `reasoning` at the end', async () => {
    stack = await startServiceStack({ LLM_PROVIDER: 'openai-compatible' });
    // The fake streams scripted message fields in one delta of their own, after the text.
    stack.fake.setHandler(() => ({ type: 'answer', content: 'Hi.', chunks: 1, messageFields: { reasoning: 'Short thought.' } }));
    const pieces = await streamedPieces(stack.client, 'qwen3', {});
    expect(pieces).toEqual([{ content: 'Hi.' }, { reasoning: 'Short thought.' }]);
    // A whole answer relays the field under the server's own name, as before.
    const whole = await stack.client.chat.completions.create({ model: 'qwen3', messages: [{ role: 'user', content: 'Hi!' }] });
    expect(whole.choices[0]?.message).toMatchObject({ reasoning: 'Short thought.' });
  });

  it('streams a cached answer’s reasoning first, as the provider streamed it', async () => {
    stack = await startServiceStack({ LLM_PROVIDER: 'openai-compatible', LLM_CACHE: 'memory', SERVER_CACHE: 'true' });
    stack.fake.setHandler(() => SETUPS['openai-compatible']!.answer);
    const ask = { model: 'deepseek-reasoner', messages: [{ role: 'user' as const, content: 'Hi!' }], temperature: 0 };
    await stack.client.chat.completions.create(ask);
    const { data, response } = await stack.client.chat.completions.create({ ...ask, stream: true }).withResponse();
    expect(response.headers.get('x-groundwork-cache')).toBe('hit');
    const pieces: Piece[] = [];
    for await (const chunk of data) {
      const delta = (chunk.choices[0]?.delta ?? {}) as { content?: string | null; reasoning_content?: string };
      if (typeof delta.reasoning_content === 'string') pieces.push({ reasoning: delta.reasoning_content });
      if (typeof delta.content === 'string' && delta.content !== '') pieces.push({ content: delta.content });
    }
    expect(stack.fake.requests).toHaveLength(1);
    expect(summary(pieces)).toMatchObject({ reasoning: REASONING, content: ANSWER, reasoningBeforeContent: true });
  });
});

describe('the library’s stream()', () => {
  it('yields reasoning-delta events as the model thinks, before its text, and the whole reasoning at the end', async () => {
    stack = await startServiceStack({
      LLM_PROVIDER: 'anthropic',
      ANTHROPIC_API_KEY: 'sk-ant-reason-secret',
      ANTHROPIC_MODEL: 'claude-sonnet-4',
    });
    stack.fake.setHandler(() => SETUPS['anthropic']!.answer);
    const events: LlmStreamEvent[] = [];
    for await (const event of stack.infrastructure.llm.stream({ messages: [{ role: 'user', content: 'Hi!' }], reasoningEffort: 'low' }))
      events.push(event);
    const kinds = events.map((event) => event.type).filter((type, at, all) => type !== all[at - 1]);
    expect(kinds).toEqual(['start', 'reasoning-delta', 'delta', 'done']);
    const reasoning = events.flatMap((event) => (event.type === 'reasoning-delta' ? [event.text] : [])).join('');
    expect(reasoning).toBe(REASONING);
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error('no done');
    expect(done.response.choices[0]?.message.passthrough).toEqual({ reasoning_content: REASONING });
  });
});
