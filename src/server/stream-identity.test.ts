import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { checkedStacks } from './checked-stacks.test-helpers.js';
import { type ServiceStack, STACK_API_KEY } from './service-stack.test-helpers.js';
import type { SpecCheckingFetch } from './spec-checking-fetch.test-helpers.js';

/*
 * The id and creation time of a streamed answer, through the official OpenAI SDK, `groundwork serve`
 * and the real call path in front of the fake provider: every chunk carries the provider's answer id
 * when the provider names its answer, as a whole answer does, and one id of its own otherwise.
 * Every chunk is checked against OpenAI's spec as it is read, and again after each test.
 */

const startChecked = checkedStacks();
let checker: SpecCheckingFetch;

async function start(env?: (fake: FakeProviderServer) => Record<string, string>): Promise<{ client: OpenAI; stack: ServiceStack }> {
  const { stack, checker: checking } = await startChecked(env);
  checker = checking;
  return { client: new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0, fetch: checker.fetch }), stack };
}

const anthropic = () => ({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-stream-id', ANTHROPIC_MODEL: 'claude-sonnet-4' });
const gemini = (fake: FakeProviderServer) => ({
  LLM_PROVIDER: 'gemini',
  GEMINI_API_KEY: 'AIza-stream-id',
  GEMINI_BASE_URL: fake.geminiBaseUrl,
});
const bedrock = (fake: FakeProviderServer) => ({
  LLM_PROVIDER: 'bedrock',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIASTREAMID',
  AWS_SECRET_ACCESS_KEY: 'aws-stream-id-secret',
  BEDROCK_BASE_URL: fake.bedrockEndpoint,
});

/** Every chunk of one streamed answer, read by the SDK, and whether it came from the cache. */
async function streamed(
  client: OpenAI,
  model: string,
  headers: Record<string, string> = {},
): Promise<{ chunks: OpenAI.ChatCompletionChunk[]; cache: string | null }> {
  await checker.problems();
  const checkedBefore = checker.checked;
  const { data, response } = await client.chat.completions
    .create(
      { model, messages: [{ role: 'user', content: 'Say hello.' }], stream: true, stream_options: { include_usage: true }, temperature: 0 },
      { headers },
    )
    .withResponse();
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  for await (const chunk of data) chunks.push(chunk);
  // A role chunk, text chunks, a finish chunk and a usage chunk: an id that changed midway would show.
  expect(chunks.length).toBeGreaterThanOrEqual(4);
  expect(await checker.problems()).toEqual([]);
  expect(checker.checked - checkedBefore).toBe(chunks.length);
  return { chunks, cache: response.headers.get('x-groundwork-cache') };
}

/** The ids and creation times the chunks carry, each once. */
function identities(chunks: OpenAI.ChatCompletionChunk[]): { ids: string[]; created: number[] } {
  return { ids: [...new Set(chunks.map((chunk) => chunk.id))], created: [...new Set(chunks.map((chunk) => chunk.created))] };
}

/** A creation time long past, which no clock read during a test can give. */
const MADE_LONG_AGO = 1_700_000_000;

describe('the id of a streamed answer', () => {
  it('is the provider’s on every chunk, with the provider’s creation time, on OpenAI’s wire', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'answer', created: MADE_LONG_AGO });
    const { chunks } = await streamed(client, 'gpt-4o-mini');
    const { answerId, answerCreated } = stack.fake.requests[0] ?? {};
    expect(answerId).toMatch(/^chatcmpl-/);
    expect(answerCreated).toBe(MADE_LONG_AGO);
    expect(identities(chunks)).toEqual({ ids: [answerId], created: [MADE_LONG_AGO] });
  });

  it('is the fallback’s, with its creation time, when the primary provider fails before any content', async () => {
    const { client, stack } = await start((fake) => ({
      LLM_FALLBACKS: 'azure:fallback-deploy',
      AZURE_OPENAI_ENDPOINT: fake.azureEndpoint,
      AZURE_OPENAI_API_KEY: 'azure-stream-id-key',
      AZURE_OPENAI_DEPLOYMENT: 'fallback-deploy',
    }));
    stack.fake.enqueue({ type: 'error', status: 503 }, { type: 'answer', created: MADE_LONG_AGO });
    const { chunks } = await streamed(client, 'gpt-4o-mini');
    const [primary, fallback] = stack.fake.requests;
    expect([primary?.wire, fallback?.wire]).toEqual(['openai', 'azure']);
    expect(primary?.answerId).toBeUndefined();
    expect(fallback?.answerId).toMatch(/^chatcmpl-/);
    expect(fallback?.answerCreated).toBe(MADE_LONG_AGO);
    expect(identities(chunks)).toEqual({ ids: [fallback?.answerId], created: [MADE_LONG_AGO] });
  });

  it('is the message id on every chunk, on Anthropic’s wire', async () => {
    const { client, stack } = await start(anthropic);
    const { chunks } = await streamed(client, 'claude-sonnet-4');
    const answerId = stack.fake.requests[0]?.answerId;
    expect(answerId).toMatch(/^msg_/);
    expect(identities(chunks).ids).toEqual([answerId]);
    expect(identities(chunks).created).toHaveLength(1);
  });

  it('is the response id on every chunk, on Gemini’s wire', async () => {
    const { client, stack } = await start(gemini);
    const { chunks } = await streamed(client, 'gemini-2.5-flash');
    const answerId = stack.fake.requests[0]?.answerId;
    expect(answerId).toMatch(/^resp_/);
    expect(identities(chunks).ids).toEqual([answerId]);
    expect(identities(chunks).created).toHaveLength(1);
  });

  it('is one fresh chatcmpl- id on every chunk when the provider names no answer (Bedrock)', async () => {
    const { client, stack } = await start(bedrock);
    const { chunks } = await streamed(client, 'amazon.nova-lite-v1:0');
    expect(stack.fake.requests[0]?.answerId).toBeUndefined();
    const { ids, created } = identities(chunks);
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(created).toHaveLength(1);
  });

  it('is the provider’s in the whole and in the streamed answer of the same request', async () => {
    const { client, stack } = await start();
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] });
    const { chunks } = await streamed(client, 'gpt-4o-mini');
    const [first, second] = stack.fake.requests.map((request) => request.answerId);
    expect(whole.id).toBe(first);
    expect(identities(chunks).ids).toEqual([second]);
    expect(second).not.toBe(first);
  });

  it('is the cached answer’s own when a cached answer is replayed as a stream', async () => {
    const { client, stack } = await start();
    const headers = { 'X-Groundwork-Cache': 'use' };
    const original = await streamed(client, 'gpt-4o-mini', headers);
    const replayed = await streamed(client, 'gpt-4o-mini', headers);
    expect([original.cache, replayed.cache]).toEqual(['miss', 'hit']);
    expect(stack.fake.requests).toHaveLength(1);
    expect(identities(replayed.chunks)).toEqual(identities(original.chunks));
    expect(identities(replayed.chunks).ids).toEqual([stack.fake.requests[0]?.answerId]);
  });
});
