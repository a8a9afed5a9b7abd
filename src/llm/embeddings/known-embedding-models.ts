/** What Groundwork knows of an embedding model's vectors. */
export interface KnownEmbeddingModel {
  /** The length of its vectors when no `dimensions` is asked for. */
  dimensions: number;
  /** Whether it takes `dimensions` to return shorter vectors. */
  shortens: boolean;
}

/**
 * Embedding models whose vector length is known without asking them, by exact name. Used to
 * refuse, at configuration time, a fallback that would hand back vectors of another length.
 * A model not listed (an Azure deployment, a local model) has known dimensions only when
 * `LLM_EMBEDDING_DIMENSIONS` (or a call's `dimensions`) says them.
 */
export const KNOWN_EMBEDDING_MODELS: Readonly<Record<string, KnownEmbeddingModel>> = Object.freeze({
  'text-embedding-3-small': { dimensions: 1536, shortens: true },
  'text-embedding-3-large': { dimensions: 3072, shortens: true },
  'text-embedding-ada-002': { dimensions: 1536, shortens: false },
  'nomic-embed-text': { dimensions: 768, shortens: false },
  'mxbai-embed-large': { dimensions: 1024, shortens: false },
  'all-minilm': { dimensions: 384, shortens: false },
  'gemini-embedding-001': { dimensions: 3072, shortens: true },
  'text-embedding-004': { dimensions: 768, shortens: true },
  'amazon.titan-embed-text-v2:0': { dimensions: 1024, shortens: true },
  'amazon.titan-embed-text-v1': { dimensions: 1536, shortens: false },
  'cohere.embed-english-v3': { dimensions: 1024, shortens: false },
  'cohere.embed-multilingual-v3': { dimensions: 1024, shortens: false },
});

/** The default embedding model of the OpenAI family. */
export const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-small';

/** The embedding model used when `LLM_EMBEDDING_MODEL` is unset, by provider. */
export function defaultEmbeddingModel(provider: string): string {
  if (provider === 'gemini') return 'gemini-embedding-001';
  if (provider === 'bedrock') return 'amazon.titan-embed-text-v2:0';
  return DEFAULT_EMBEDDING_MODEL;
}

/**
 * The length of the vectors `model` returns when asked for `requested` dimensions; undefined
 * when unknown. A listed model that cannot shorten keeps its own length whatever is asked.
 */
export function embeddingDimensions(model: string, requested: number | undefined): number | undefined {
  const known = knownEmbeddingModel(model);
  if (known === undefined) return requested;
  if (requested === undefined || !known.shortens) return known.dimensions;
  return Math.min(requested, known.dimensions);
}

/**
 * What the table knows of `model`, matched by its last path segment (`library/nomic-embed-text`)
 * and without an Ollama `:latest` tag; undefined when it is not listed.
 */
export function knownEmbeddingModel(model: string): KnownEmbeddingModel | undefined {
  const name = model.includes('/') ? (model.split('/').at(-1) ?? model) : model;
  return KNOWN_EMBEDDING_MODELS[name] ?? KNOWN_EMBEDDING_MODELS[name.replace(/:latest$/, '')];
}
