import type { GoogleGenAI, GoogleGenAIOptions } from '@google/genai';
import type { Secret } from '../../../config/secret.js';
import type { EmbeddingRequest } from '../../embeddings/embedding-request.js';
import type { EmbeddingResponse } from '../../embeddings/embedding-response.js';
import { type CompletionBase, completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { streamStart } from '../stream-start.js';
import { GeminiAnswerAssembler } from './gemini-answer-assembler.js';
import { embedWithGemini } from './gemini-embeddings.js';
import { mapGeminiError } from './gemini-errors.js';
import { toGeminiParams } from './gemini-request.js';
import { geminiUnsupportedFields } from './gemini-unsupported.js';

/** Vertex AI settings: Gemini through a Google Cloud project, with application default credentials. */
export interface GeminiVertexOptions {
  project: string;
  location: string;
  /** How to authenticate (a key file, scopes, an auth client); @default application default credentials */
  googleAuthOptions?: GoogleGenAIOptions['googleAuthOptions'] | undefined;
}

/** Settings of the Gemini provider. */
export interface GeminiProviderOptions {
  /** The Gemini API key; read at each call, so a rotated key is used on the next request. Not used with Vertex AI. */
  apiKey?: Secret | undefined;
  model: string;
  /** Reach Gemini through Vertex AI instead of the Gemini API. */
  vertex?: GeminiVertexOptions | undefined;
  /** @default Google's endpoint (`https://generativelanguage.googleapis.com`, or the Vertex AI location's) */
  baseUrl?: string | undefined;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

type GenAiModule = typeof import('@google/genai');
let sdk: Promise<GenAiModule> | undefined;

/** The SDK, loaded at the first call: an application that never calls Gemini never loads it. */
function loadSdk(): Promise<GenAiModule> {
  sdk ??= import('@google/genai');
  return sdk;
}

/**
 * Google Gemini on the official `@google/genai` SDK, through the Gemini API (a key) or Vertex AI
 * (project, location, application default credentials). Tools, images, audio, PDFs, several
 * candidates, thinking budgets and native structured output (`responseJsonSchema`) are
 * translated; what Gemini cannot honour is named by {@link GeminiProvider.unsupportedFields}. The
 * SDK is loaded at the first call and never retries by itself.
 */
export class GeminiProvider implements LlmProvider {
  readonly name = 'gemini' as const;
  readonly defaultModel: string;
  readonly #options: GeminiProviderOptions;
  #clients: KeyedClient<GoogleGenAI> | undefined;

  constructor(options: GeminiProviderOptions) {
    this.defaultModel = options.model;
    this.#options = options;
    // Start loading the SDK now, while the application starts, rather than inside the first call's
    // timeout; a failed load surfaces at that call.
    loadSdk().catch(() => undefined);
  }

  async #client(): Promise<GoogleGenAI> {
    const { GoogleGenAI } = await loadSdk();
    const options = this.#options;
    this.#clients ??= new KeyedClient((key) => {
      const httpOptions = { timeout: options.timeoutMs ?? 600_000, ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }) };
      if (options.vertex !== undefined) {
        return new GoogleGenAI({
          vertexai: true,
          project: options.vertex.project,
          location: options.vertex.location,
          ...(options.vertex.googleAuthOptions === undefined ? {} : { googleAuthOptions: options.vertex.googleAuthOptions }),
          httpOptions,
        });
      }
      return new GoogleGenAI({ apiKey: key ?? '', httpOptions });
    });
    return this.#clients.get(options.vertex === undefined ? options.apiKey?.reveal() : undefined);
  }

  unsupportedFields(request: ChatRequest): string[] {
    return geminiUnsupportedFields(request);
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const params = toGeminiParams(request, model);
    const assembler = new GeminiAnswerAssembler(model);
    try {
      const client = await this.#client();
      const answer = await client.models.generateContent({ ...params, config: { ...params.config, abortSignal: signal } });
      assembler.accept(answer);
    } catch (error) {
      throw mapGeminiError(error, { model, signal });
    }
    return this.#completion(assembler.completion());
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const params = toGeminiParams(request, model);
    const assembler = new GeminiAnswerAssembler(model);
    try {
      const client = await this.#client();
      const chunks = await client.models.generateContentStream({ ...params, config: { ...params.config, abortSignal: signal } });
      // The start waits for the first chunk, which names the answer (`responseId`) and the model (`modelVersion`).
      let started = false;
      for await (const chunk of chunks) {
        const events = assembler.accept(chunk);
        if (!started) {
          started = true;
          yield streamStart(undefined, assembler.id, undefined, assembler.reportedModel);
        }
        yield* events;
      }
      if (!started) yield streamStart(undefined, undefined);
    } catch (error) {
      throw mapGeminiError(error, { model, signal });
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (!assembler.finished) {
      throw providerError('connection', 'the stream ended before the answer was complete', { provider: this.name, model });
    }
    yield { type: 'done', completion: this.#completion(assembler.completion()) };
  }

  /** Embeddings; a bound function, as the embedding engine calls it detached from the provider. */
  readonly embed = async (request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResponse> => {
    let client: GoogleGenAI;
    try {
      client = await this.#client();
    } catch (error) {
      throw mapGeminiError(error, { model: request.model, signal });
    }
    return embedWithGemini(client, request, signal);
  };

  /** Lists one model: proves the key (or the credentials) and the endpoint without spending tokens. */
  async ping(signal: AbortSignal): Promise<void> {
    try {
      const client = await this.#client();
      await client.models.list({ config: { pageSize: 1, abortSignal: signal } });
    } catch (error) {
      throw mapGeminiError(error, { model: this.defaultModel, signal });
    }
  }

  #completion(answer: Omit<CompletionBase, 'provider'>): ChatCompletion {
    return completionOf({ provider: this.name, ...answer });
  }
}

/** Creates the Gemini provider. */
export function createGeminiProvider(options: GeminiProviderOptions): LlmProvider {
  return new GeminiProvider(options);
}
