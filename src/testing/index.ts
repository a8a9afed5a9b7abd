/**
 * Test helpers for applications built on Groundwork (`groundwork/testing`).
 *
 * {@link FakeProviderServer} is a real HTTP server that speaks OpenAI, Azure OpenAI and Anthropic
 * wire formats and injects faults on demand; point Groundwork (or any SDK) at it.
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
 * @module
 */
export type {
  FakeAnswer,
  FakeBehaviour,
  FakeCutStream,
  FakeError,
  FakeHandler,
  FakeHang,
  FakeMalformed,
  FakeReset,
  FakeUsage,
  FakeWire,
  RecordedRequest,
} from './fake-behaviour.js';
export { FakeProviderServer, type FakeProviderServerOptions, startFakeProviderServer } from './fake-provider-server.js';
export { ManualClock } from './manual-clock.js';
