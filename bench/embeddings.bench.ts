import OpenAI from 'openai';
import { createInfrastructure } from '../src/create-infrastructure.js';
import { silentLogger } from '../src/observability/logger.js';
import { FakeProviderServer } from '../src/testing/fake-provider-server.js';
import { type BenchResult, percentile, round } from './harness.js';

/*
 * `npm run bench -- embeddings`: vectors per second through `infra.embed` (batching, limits,
 * breaker, retry; cache off), also under a tokens-per-minute limit (each input counted with the
 * tokenizer first), against the raw `openai` SDK's
 * `embeddings.create`, both at the fake provider answering at once, in interleaved rounds;
 * and what a cache hit costs per vector (memory store: key digest, lookup, decode).
 * Each call embeds BATCH distinct texts of ~40 tokens at DIMENSIONS dimensions.
 */

const ROUNDS = Number(process.env.EMBEDDINGS_BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.EMBEDDINGS_BENCH_CALLS ?? 40);
const BATCH = 256;
const DIMENSIONS = 256;
const MODEL = 'text-embedding-3-small';

let serial = 0;
const texts = () =>
  Array.from(
    { length: BATCH },
    () => `Document ${serial++}: a paragraph about retrieval, vectors and the cost of embedding a corpus twice.`,
  );

/** Vectors per second over `CALLS` calls of `embed`. */
async function vectorsPerSecond(embed: (input: string[]) => Promise<unknown>): Promise<number> {
  const inputs = Array.from({ length: CALLS }, texts);
  const started = performance.now();
  for (const input of inputs) await embed(input);
  return (CALLS * BATCH) / ((performance.now() - started) / 1000);
}

export default async function embeddingsBench(): Promise<BenchResult> {
  const fake = await new FakeProviderServer().start();
  const sdk = new OpenAI({ apiKey: 'bench-key', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  const open = (env: Record<string, string> = {}) =>
    createInfrastructure({
      env: {
        DATABASE_URL: 'sqlite::memory:',
        LLM_PROVIDER: 'openai',
        OPENAI_API_KEY: 'bench-key',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        LLM_EMBEDDING_DIMENSIONS: String(DIMENSIONS),
        LLM_CACHE_MAX_ENTRIES: '1000000',
        LLM_CACHE_MAX_BYTES: String(512 * 1024 * 1024),
        LLM_LEDGER: 'false',
        ...env,
      },
      envFile: false,
      logger: silentLogger(),
    });
  const infra = await open();
  // Under a tokens-per-minute limit every input is counted with the tokenizer before the call.
  const limited = await open({ LLM_TOKENS_PER_MINUTE: '1000000000' });
  try {
    const raw = (input: string[]) => sdk.embeddings.create({ model: MODEL, input, dimensions: DIMENSIONS });
    const library = (input: string[]) => infra.embed(input, { cache: false });
    const counted = (input: string[]) => limited.embed(input, { cache: false });
    await vectorsPerSecond(raw);
    await vectorsPerSecond(library);
    await vectorsPerSecond(counted);
    const rawRates: number[] = [];
    const libraryRates: number[] = [];
    const countedRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rawRates.push(await vectorsPerSecond(raw));
      libraryRates.push(await vectorsPerSecond(library));
      countedRates.push(await vectorsPerSecond(counted));
    }

    const corpus = texts();
    await infra.embed(corpus);
    const hitMicros: number[] = [];
    for (let round = 0; round < ROUNDS * 20; round++) {
      const started = performance.now();
      const result = await infra.embed(corpus);
      hitMicros.push(((performance.now() - started) * 1000) / BATCH);
      if (result.metadata.cachedInputs !== BATCH) throw new Error('expected every input from the cache');
    }
    const median = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    const rawMedian = median(rawRates);
    const libraryMedian = median(libraryRates);
    const countedMedian = median(countedRates);
    const hit = median(hitMicros);
    const uncachedMicros = 1e6 / libraryMedian;
    return {
      name: 'embeddings',
      description: `Vectors/s embedding ${BATCH} texts a call at ${DIMENSIONS} dimensions against the fake provider (0 ms), library vs raw openai SDK, medians of ${ROUNDS} interleaved rounds; and a memory cache hit's µs per vector.`,
      rows: [
        { subject: 'raw openai SDK embeddings.create', vectors_per_s: round(rawMedian), us_per_vector: round(1e6 / rawMedian) },
        { subject: 'infra.embed (cache off)', vectors_per_s: round(libraryMedian), us_per_vector: round(uncachedMicros) },
        {
          subject: 'infra.embed, tokens counted (TPM limit)',
          vectors_per_s: round(countedMedian),
          us_per_vector: round(1e6 / countedMedian),
        },
        { subject: 'infra.embed cache hit (memory)', vectors_per_s: round(1e6 / hit), us_per_vector: round(hit) },
      ],
      ratios: {
        ratio_library_over_raw_sdk_vectors_per_s: round(libraryMedian / rawMedian),
        ratio_counted_over_raw_sdk_vectors_per_s: round(countedMedian / rawMedian),
        ratio_uncached_over_cache_hit_us_per_vector: round(uncachedMicros / hit),
        cache_hit_us_per_vector: round(hit),
      },
    };
  } finally {
    await infra.close();
    await limited.close();
    await fake.close();
  }
}
