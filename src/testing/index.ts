/**
 * Test helpers for applications built on Groundwork (`groundwork/testing`).
 *
 * {@link FakeProviderServer} is a real HTTP server that speaks OpenAI (chat completions, the
 * Responses API, embeddings, the Batch API), Azure OpenAI, Anthropic (messages and Message Batches),
 * Google Gemini and AWS Bedrock wire formats — text, tool calls (streamed as argument deltas),
 * refusals, several choices, log probabilities — and injects faults on demand; point Groundwork (or
 * any SDK) at it to test an application or an agent. {@link toolResultsOf} lets a handler answer a
 * tool-result turn; {@link ManualClock} moves time only when told, for timeouts without sleeping.
 *
 * @example
 * ```ts
 * import { createInfrastructure } from 'groundwork';
 * import { startFakeProviderServer } from 'groundwork/testing';
 *
 * const fake = await startFakeProviderServer();
 * const infra = await createInfrastructure({
 *   env: { LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: fake.openaiBaseUrl },
 *   envFile: false,
 * });
 * await infra.initDb(); // the usage ledger's table, before the first call
 * fake.enqueue({ type: 'answer', json: { translation: 'hallo' } });
 * // … call code that uses infra.executePrompt(…)
 * expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini' });
 * await infra.close();
 * await fake.close();
 * ```
 *
 * @example An agent's tool round trip: the first turn calls a tool, the tool-result turn answers.
 * ```ts
 * import { startFakeProviderServer, toolResultsOf } from 'groundwork/testing';
 *
 * const fake = await startFakeProviderServer({
 *   handler: (request) =>
 *     toolResultsOf(request).length > 0
 *       ? { type: 'answer', content: `It is ${toolResultsOf(request)[0]?.content} in Paris.` }
 *       : { type: 'answer', toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }] },
 * });
 * // … run the agent against fake.openaiBaseUrl (or fake.anthropicBaseUrl), then:
 * expect(fake.requests).toHaveLength(2);
 * ```
 *
 * @module
 */

export { type FakeBatchEnd, FakeBatches, type FakeBatchSettings } from './fake-batch-wire.js';
export type {
  FakeAnswer,
  FakeBehaviour,
  FakeChoice,
  FakeCutStream,
  FakeError,
  FakeFinishReason,
  FakeHandler,
  FakeHang,
  FakeImage,
  FakeMalformed,
  FakeReset,
  FakeToolCall,
  FakeUsage,
  FakeWire,
  RecordedRequest,
} from './fake-behaviour.js';
export { FakeProviderServer, type FakeProviderServerOptions, startFakeProviderServer } from './fake-provider-server.js';
export { type FakeBackgroundSettings, type FakeStoreAnswer, FakeStoredResponses } from './fake-responses-store.js';
export { type FakeToolResult, toolResultsOf } from './fake-tool-results.js';
export { ManualClock } from './manual-clock.js';
