import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateOpenAiSchema } from '../../test/openai-spec.js';
import { vectorFromBase64 } from '../llm/embeddings/vector-codec.js';
import { fakeEmbedding } from '../testing/fake-embeddings.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from './service-stack.test-helpers.js';

/*
 * The official OpenAI SDK's `embeddings.create` against `groundwork serve` in front of the fake
 * provider: every answer of `serve` is checked against `CreateEmbeddingResponse`, every body the
 * upstream receives against `CreateEmbeddingRequest`.
 */

let stack: ServiceStack | undefined;
let problems: string[] = [];

/**
 * A fetch that validates each JSON answer of `/embeddings` against OpenAI's spec. The spec types
 * `embedding` as numbers only; a base64 answer is checked to hold strings, then validated decoded.
 */
const checkingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (response.ok && String(input instanceof Request ? input.url : input).endsWith('/embeddings')) {
    const base64 = typeof init?.body === 'string' && (JSON.parse(init.body) as { encoding_format?: string }).encoding_format === 'base64';
    const answer = (await response.clone().json()) as { data: Array<{ embedding: unknown }> };
    if (base64) {
      for (const item of answer.data) {
        if (typeof item.embedding !== 'string') problems.push('a base64 answer holds a non-string embedding');
        else item.embedding = Array.from(vectorFromBase64(item.embedding));
      }
    }
    problems.push(...validateOpenAiSchema('CreateEmbeddingResponse', answer));
  }
  return response;
};

async function start(env: Record<string, string> = {}): Promise<{ client: OpenAI; stack: ServiceStack }> {
  stack = await startServiceStack(env);
  problems = [];
  return { stack, client: new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0, fetch: checkingFetch }) };
}

beforeAll(() => {
  validateOpenAiSchema('CreateEmbeddingResponse', {});
});

afterEach(async () => {
  if (stack !== undefined) {
    expect(problems).toEqual([]);
    for (const request of stack.fake.requests.filter((recorded) => recorded.path.endsWith('/embeddings'))) {
      expect(validateOpenAiSchema('CreateEmbeddingRequest', request.body)).toEqual([]);
    }
    await stack.close();
  }
  stack = undefined;
});

describe('POST /v1/embeddings', () => {
  it('answers embeddings.create with floats, and with base64 (the SDK’s default), from the cache the second time', async () => {
    const { client, stack } = await start();
    const floats = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: ['first text', 'second text'], encoding_format: 'float', dimensions: 64 })
      .withResponse();
    expect(floats.data.data.map((item) => item.index)).toEqual([0, 1]);
    expect(floats.data.data[1]?.embedding).toHaveLength(64);
    expect(floats.data.data[1]?.embedding[0]).toBeCloseTo(fakeEmbedding('second text', 64)[0]!, 6);
    expect(floats.data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(floats.response.headers.get('x-groundwork-cache')).toBe('miss');

    const base64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'first text', dimensions: 64 }).withResponse();
    expect(base64.data.data[0]?.embedding).toEqual(floats.data.data[0]?.embedding);
    expect(base64.response.headers.get('x-groundwork-cache')).toBe('hit');
    expect(base64.data.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
    expect(stack.fake.requests).toHaveLength(1);

    const bypass = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'first text', dimensions: 64 }, { headers: { 'X-Groundwork-Cache': 'bypass' } })
      .withResponse();
    expect(bypass.response.headers.get('x-groundwork-cache')).toBe('miss');
    expect(stack.fake.requests).toHaveLength(2);
  });

  it('lists the embedding model among the models', async () => {
    const { client } = await start();
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
  });

  it('takes token arrays', async () => {
    const { client } = await start();
    const answer = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      encoding_format: 'float',
    });
    expect(answer.data).toHaveLength(2);
    expect(answer.usage.prompt_tokens).toBe(5);
  });

  it('refuses a bad body, and embeddings on Anthropic, with 400', async () => {
    const { client } = await start({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-serve' });
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: [] })).rejects.toMatchObject({ status: 400 });
    const refused = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, code: 'embeddings_unsupported' });
    expect((refused as Error).message).toMatch(/LLM_EMBEDDING_PROVIDER/);
  });

  it('refuses dimensions for a model of one fixed length with 400 naming dimensions, sending nothing', async () => {
    const { client, stack } = await start();
    const refused = await client.embeddings
      .create({ model: 'text-embedding-ada-002', input: 'hello', dimensions: 256 })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, code: 'llm_invalid_request', param: 'dimensions' });
    expect((refused as Error).message).toMatch(/text-embedding-ada-002 returns 1536-dimension vectors only/);
    expect(stack.fake.requests).toHaveLength(0);
  });

  it('refuses dimensions beyond the length of a model that shortens with 400 naming dimensions, sending nothing', async () => {
    const { client, stack } = await start();
    const refused = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'hello', dimensions: 4000, encoding_format: 'float' })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, code: 'llm_invalid_request', param: 'dimensions' });
    expect((refused as Error).message).toMatch(/text-embedding-3-small returns at most 1536-dimension vectors/);
    expect(stack.fake.requests).toHaveLength(0);

    const full = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello',
      dimensions: 1536,
      encoding_format: 'float',
    });
    expect(full.data[0]?.embedding).toHaveLength(1536);
  });

  it('refuses a field OpenAI’s embeddings request does not hold with 400 naming it, sending nothing', async () => {
    const { stack } = await start();
    const post = (body: unknown) =>
      fetch(`${stack.baseUrl}/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${STACK_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await post({ model: 'text-embedding-3-small', input: 'x', input_type: 'query' });
    expect(refused.status).toBe(400);
    const answer = (await refused.json()) as { error: { param: string; message: string; type: string } };
    expect(answer.error).toMatchObject({ type: 'invalid_request_error', param: 'input_type' });
    expect(answer.error.message).toMatch(/^Invalid input_type: /);
    const truncate = await post({ model: 'text-embedding-3-small', input: 'x', truncate: 'END' });
    expect(((await truncate.json()) as { error: { param: string } }).error.param).toBe('truncate');
    expect(stack.fake.requests).toHaveLength(0);
  });

  it('says what input may be when it is none of OpenAI’s forms, and refuses a body that is no object without blaming input', async () => {
    const { stack } = await start();
    const post = async (body: unknown) => {
      const answer = await fetch(`${stack.baseUrl}/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${STACK_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(answer.status).toBe(400);
      return ((await answer.json()) as { error: { param: string | null; message: string } }).error;
    };
    for (const input of [['a text', [1, 2]], [1.5, 2], [true]]) {
      const error = await post({ model: 'text-embedding-3-small', input });
      expect(error.param).toBe('input');
      expect(error.message).toBe(
        'Invalid input: must be a non-empty text, an array of non-empty texts, an array of token ids (whole numbers of at least 0), ' +
          'or an array of non-empty arrays of token ids, one form throughout.',
      );
    }
    for (const body of [null, ['text-embedding-3-small', 'x'], 'x']) {
      expect(await post(body)).toMatchObject({ param: null, message: 'The body must be a JSON object.' });
    }
    expect(stack.fake.requests).toHaveLength(0);
  });

  it('answers vectors of the wrong length with their message, not an opaque 500: 400 naming dimensions when the call asked it, else 502', async () => {
    const { client, stack } = await start({ LLM_EMBEDDING_MODEL: 'local-embedder' });
    stack.fake.enqueue({ type: 'answer', dimensions: 768 });
    const ignored = await client.embeddings
      .create({ model: 'local-embedder', input: 'shorten me', dimensions: 256 })
      .catch((error: unknown) => error);
    expect(ignored).toMatchObject({ status: 400, code: 'embedding_dimensions_mismatch', param: 'dimensions' });
    expect((ignored as Error).message).toMatch(/returned 768-dimension vectors where dimensions asked 256/);

    stack.fake.enqueue({ type: 'answer', dimensions: 768 });
    const wrong = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'full length', encoding_format: 'float' })
      .catch((error: unknown) => error);
    expect(wrong).toMatchObject({ status: 502, code: 'embedding_dimensions_mismatch', param: null });
    expect((wrong as Error).message).toMatch(/returned 768-dimension vectors where 1536 were expected/);
    expect(stack.fake.requests).toHaveLength(2);
  });

  it('passes an upstream 429 on with its status after Groundwork’s own retries', async () => {
    const { client, stack } = await start();
    stack.fake.enqueue({ type: 'error', status: 429, retryAfter: 1 });
    const error = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'limited' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 429 });
  });
});
