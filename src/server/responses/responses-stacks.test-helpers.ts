import OpenAI from 'openai';
import { afterEach, beforeAll, expect } from 'vitest';
import { validateOpenAiSchema } from '../../../test/openai-spec.js';
import type { Logger } from '../../observability/logger.js';
import { type FakeProviderServer, startFakeProviderServer } from '../../testing/fake-provider-server.js';
import { type ServiceStack, STACK_API_KEY, startServiceStack } from '../service-stack.test-helpers.js';
import { type ResponsesSpecFetch, responsesSpecFetch } from './responses-spec-fetch.test-helpers.js';

/** The alternatives of the spec's `InputItem`. */
const INPUT_ITEMS = ['EasyInputMessage', 'Item', 'ItemReferenceParam'];

/**
 * The problems of a `CreateResponse` body. The spec's `InputItem` is a `oneOf` whose alternatives
 * overlap: a message without `type` matches both `EasyInputMessage` and `Item`'s `InputMessage`
 * (the AI SDK sends such messages, and OpenAI takes them), so "exactly one" fails where OpenAI's
 * discriminator would pick one. Each input item is therefore checked to match at least one
 * alternative, and the rest of the body against `CreateResponse`.
 */
export function createResponseProblems(body: Record<string, unknown>): string[] {
  const { input, ...rest } = body;
  const problems = validateOpenAiSchema('CreateResponse', Array.isArray(input) ? rest : body);
  if (!Array.isArray(input)) return problems;
  for (const [index, item] of input.entries()) {
    const each = INPUT_ITEMS.map((name) => validateOpenAiSchema(name, item));
    if (each.every((found) => found.length > 0))
      problems.push(`/input/${index}: matches no InputItem: ${each.flat().slice(0, 5).join('; ')}`);
  }
  return problems;
}

/** A running stack, the spec-checking `fetch`, and an OpenAI SDK client that uses it. */
export interface ResponsesStack {
  stack: ServiceStack;
  checker: ResponsesSpecFetch;
  client: OpenAI;
  /** The Responses bodies the upstream received, in order. */
  upstreamResponsesBodies(): Array<Record<string, unknown>>;
}

/** The upstreams the suites run in front of: OpenAI's wire (forwarded), Anthropic and a compatible server (translated). */
export const UPSTREAMS: Record<string, (fake: FakeProviderServer) => Record<string, string>> = {
  openai: () => ({}),
  anthropic: () => ({ LLM_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-upstream-secret', ANTHROPIC_MODEL: 'claude-3-5-haiku-latest' }),
  'openai-compatible': () => ({ LLM_PROVIDER: 'openai-compatible' }),
};

/**
 * Registers what every Responses suite shares: after each test, every answer and event the client
 * read is checked against `Response` and the stream event schemas, every Responses body the
 * upstream received against `CreateResponse`, every chat body against `CreateChatCompletionRequest`;
 * then the stack is closed.
 */
export function responsesStacks(): (
  env?: Record<string, string> | ((fake: FakeProviderServer) => Record<string, string>),
  serverLogger?: Logger,
) => Promise<ResponsesStack> {
  let current: ResponsesStack | undefined;
  beforeAll(() => {
    // Compiling the spec takes seconds, and far longer on a loaded machine.
    validateOpenAiSchema('Response', {});
    validateOpenAiSchema('CreateResponse', {});
  }, 180_000);
  afterEach(async () => {
    if (current === undefined) return;
    const { stack, checker, upstreamResponsesBodies } = current;
    current = undefined;
    try {
      expect(await checker.problems()).toEqual([]);
      for (const body of upstreamResponsesBodies()) expect(createResponseProblems(body)).toEqual([]);
      for (const body of stack.upstreamBodies()) expect(validateOpenAiSchema('CreateChatCompletionRequest', body)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
  return async (env = {}, serverLogger?: Logger) => {
    const stack = await startServiceStack(env, serverLogger);
    const checker = responsesSpecFetch();
    const client = new OpenAI({ apiKey: STACK_API_KEY, baseURL: stack.baseUrl, maxRetries: 0, fetch: checker.fetch });
    const upstreamResponsesBodies = () =>
      stack.fake.requests
        .filter((request) => request.method === 'POST' && /\/responses$/.test(request.path))
        .map((request) => request.body as Record<string, unknown>);
    current = { stack, checker, client, upstreamResponsesBodies };
    return current;
  };
}

/**
 * Registers {@link responsesStacks} and returns its starter, with `withFallback`: the stack in front
 * of the primary fake with a second fake as its Azure OpenAI fallback, which takes only `azureKey`
 * and, given `responseIdPrefix`, makes ids of its own. The fallback is closed after each test.
 */
export function responsesStacksWithFallback(azureKey: string, responseIdPrefix?: string) {
  const start = responsesStacks();
  let azure: FakeProviderServer | undefined;
  afterEach(async () => {
    await azure?.close();
    azure = undefined;
  });
  const withFallback = async () => {
    const fallback = await startFakeProviderServer({
      apiKeys: [azureKey],
      ...(responseIdPrefix === undefined ? {} : { responseIdPrefix }),
    });
    azure = fallback;
    const opened = await start({
      LLM_FALLBACKS: 'azure:fallback-deploy',
      AZURE_OPENAI_ENDPOINT: fallback.azureEndpoint,
      AZURE_OPENAI_API_KEY: azureKey,
      AZURE_OPENAI_DEPLOYMENT: 'fallback-deploy',
    });
    return { ...opened, primary: opened.stack.fake, fallback };
  };
  return { start, withFallback };
}
