import type { BedrockRuntimeClient, ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import type { Secret } from '../../../config/secret.js';
import type { EmbeddingRequest } from '../../embeddings/embedding-request.js';
import type { EmbeddingResponse } from '../../embeddings/embedding-response.js';
import { type CompletionBase, completionOf } from '../../model/completion-of.js';
import type { ChatCompletion, ChatRequest, ChatStreamEvent, LlmProvider } from '../../types.js';
import { KeyedClient } from '../keyed-client.js';
import { abortedError } from '../provider-abort.js';
import { providerError } from '../provider-error-factory.js';
import { BedrockAnswerAssembler } from './bedrock-answer-assembler.js';
import { embedWithBedrock } from './bedrock-embeddings.js';
import { mapBedrockError } from './bedrock-errors.js';
import { toBedrockInput } from './bedrock-request.js';
import { toBedrockTools } from './bedrock-tools.js';
import { bedrockUnsupportedFields } from './bedrock-unsupported.js';

/** Static AWS credentials; without them the SDK's standard chain finds some (environment, profile, SSO, role). */
export interface BedrockCredentials {
  accessKeyId: Secret;
  secretAccessKey: Secret;
  sessionToken?: Secret | undefined;
}

/** Settings of the Bedrock provider. */
export interface BedrockProviderOptions {
  model: string;
  region: string;
  /** @default the region's Bedrock runtime endpoint */
  baseUrl?: string | undefined;
  /** Read at each call, so rotated credentials are used on the next request. @default the standard AWS credential chain */
  credentials?: BedrockCredentials | undefined;
  /** The SDK's own request timeout, a backstop behind Groundwork's per-attempt timeout, in ms. @default 600000 */
  timeoutMs?: number | undefined;
}

type BedrockModule = typeof import('@aws-sdk/client-bedrock-runtime');
type HttpHandlerModule = typeof import('@smithy/node-http-handler');
let sdk: Promise<[BedrockModule, HttpHandlerModule]> | undefined;

/** The SDK, loaded at the first call: an application that never calls Bedrock never loads it. */
function loadSdk(): Promise<[BedrockModule, HttpHandlerModule]> {
  sdk ??= Promise.all([import('@aws-sdk/client-bedrock-runtime'), import('@smithy/node-http-handler')]);
  return sdk;
}

/**
 * AWS Bedrock on the official `@aws-sdk/client-bedrock-runtime`, through the Converse API (one
 * shape for every model): tools, images, documents and structured output (through a forced tool)
 * are translated; what Converse cannot honour is named by {@link BedrockProvider.unsupportedFields}.
 * Embeddings go through `InvokeModel` (Titan, Cohere). The SDK is loaded at the first call, with
 * its own retries off (`maxAttempts: 1`): Groundwork's retry stage owns retries.
 */
export class BedrockProvider implements LlmProvider {
  readonly name = 'bedrock' as const;
  readonly defaultModel: string;
  readonly #options: BedrockProviderOptions;
  #clients: KeyedClient<BedrockRuntimeClient> | undefined;
  #current: BedrockRuntimeClient | undefined;

  constructor(options: BedrockProviderOptions) {
    this.defaultModel = options.model;
    this.#options = options;
    // Start loading the SDK now, while the application starts, rather than inside the first call's
    // timeout; a failed load surfaces at that call.
    loadSdk().catch(() => undefined);
  }

  async #sdk(): Promise<{ module: BedrockModule; client: BedrockRuntimeClient }> {
    const [module, http] = await loadSdk();
    const options = this.#options;
    this.#clients ??= new KeyedClient(() => {
      const credentials = options.credentials;
      return new module.BedrockRuntimeClient({
        region: options.region,
        maxAttempts: 1,
        // HTTP/1.1: the client's default HTTP/2 handler is for bidirectional streams, which Converse does not use.
        requestHandler: new http.NodeHttpHandler({ requestTimeout: options.timeoutMs ?? 600_000 }),
        ...(options.baseUrl === undefined ? {} : { endpoint: options.baseUrl }),
        ...(credentials === undefined
          ? {}
          : {
              credentials: {
                accessKeyId: credentials.accessKeyId.reveal(),
                secretAccessKey: credentials.secretAccessKey.reveal(),
                ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken.reveal() }),
              },
            }),
      });
    });
    const credentials = options.credentials;
    const key =
      credentials === undefined
        ? undefined
        : `${credentials.accessKeyId.reveal()}\u0000${credentials.secretAccessKey.reveal()}\u0000${credentials.sessionToken?.reveal() ?? ''}`;
    this.#current = this.#clients.get(key);
    return { module, client: this.#current };
  }

  unsupportedFields(request: ChatRequest): string[] {
    return bedrockUnsupportedFields(request);
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    const model = request.model || this.defaultModel;
    const input = toBedrockInput(request, model);
    const assembler = new BedrockAnswerAssembler(model, toBedrockTools(request).answerTool);
    let answer: ConverseCommandOutput;
    try {
      const { module, client } = await this.#sdk();
      answer = await client.send(new module.ConverseCommand(input), { abortSignal: signal });
    } catch (error) {
      throw mapBedrockError(error, { model, signal });
    }
    const requestId = answer.$metadata?.requestId;
    if (typeof answer.output?.message !== 'object' || !Array.isArray(answer.output.message.content)) {
      throw providerError('malformed_response', 'the answer has no message', {
        provider: this.name,
        model,
        ...(requestId === undefined ? {} : { requestId }),
      });
    }
    assembler.acceptResponse(answer);
    return this.#completion(assembler.completion(), requestId);
  }

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    const model = request.model || this.defaultModel;
    const input = toBedrockInput(request, model);
    const assembler = new BedrockAnswerAssembler(model, toBedrockTools(request).answerTool);
    let requestId: string | undefined;
    try {
      const { module, client } = await this.#sdk();
      const answer = await client.send(new module.ConverseStreamCommand(input), { abortSignal: signal });
      requestId = answer.$metadata?.requestId;
      yield { type: 'start' };
      for await (const event of answer.stream ?? []) yield* assembler.accept(event);
    } catch (error) {
      throw mapBedrockError(error, { model, signal });
    }
    if (signal.aborted) throw abortedError(signal, this.name, model);
    if (!assembler.finished) {
      throw providerError('connection', 'the stream ended before the answer was complete', {
        provider: this.name,
        model,
        ...(requestId === undefined ? {} : { requestId }),
      });
    }
    yield { type: 'done', completion: this.#completion(assembler.completion(), requestId) };
  }

  /** Embeddings; a bound function, as the embedding engine calls it detached from the provider. */
  readonly embed = async (request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResponse> => {
    let loaded: { module: BedrockModule; client: BedrockRuntimeClient };
    try {
      loaded = await this.#sdk();
    } catch (error) {
      throw mapBedrockError(error, { model: request.model, signal });
    }
    return embedWithBedrock(loaded.client, loaded.module.InvokeModelCommand, request, signal);
  };

  /**
   * Asks the model for one token: the runtime API has no free call that proves both the
   * credentials and access to the model, so this spends one (doctor and health only).
   */
  async ping(signal: AbortSignal): Promise<void> {
    const model = this.defaultModel;
    try {
      const { module, client } = await this.#sdk();
      await client.send(
        new module.ConverseCommand({
          modelId: model,
          messages: [{ role: 'user', content: [{ text: 'ping' }] }],
          inferenceConfig: { maxTokens: 1 },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw mapBedrockError(error, { model, signal });
    }
  }

  /** Destroys the SDK client's connection pool. */
  async close(): Promise<void> {
    const client = this.#current;
    this.#current = undefined;
    this.#clients = undefined;
    client?.destroy();
  }

  #completion(answer: Omit<CompletionBase, 'provider'>, requestId: string | undefined): ChatCompletion {
    const completion = completionOf({ provider: this.name, ...answer });
    if (requestId !== undefined) completion.requestId = requestId;
    return completion;
  }
}

/** Creates the Bedrock provider. */
export function createBedrockProvider(options: BedrockProviderOptions): LlmProvider {
  return new BedrockProvider(options);
}
