import { afterEach, beforeAll, expect } from 'vitest';
import { validateOpenAiSchema } from '../../test/openai-spec.js';
import type { FakeProviderServer } from '../testing/fake-provider-server.js';
import { type ServiceStack, startServiceStack } from './service-stack.test-helpers.js';
import { type SpecCheckingFetch, specCheckingFetch } from './spec-checking-fetch.test-helpers.js';

/** A running stack and the spec-checking `fetch` a client under test must use. */
export interface CheckedStack {
  stack: ServiceStack;
  checker: SpecCheckingFetch;
}

/**
 * Registers what every client compatibility suite shares: the spec compiled once before the
 * tests, and after each test, every answer and chunk the client read checked against the
 * response schemas and every body the upstream received against the request schema, then the
 * stack closed. Returns how to start a stack (with `env` overrides, or a function of the fake that makes them) for one test.
 */
export function checkedStacks(): (
  env?: Record<string, string> | ((fake: FakeProviderServer) => Record<string, string>),
) => Promise<CheckedStack> {
  let current: CheckedStack | undefined;
  beforeAll(() => {
    // Compiles the spec once, outside any test's time budget.
    validateOpenAiSchema('CreateChatCompletionResponse', {});
  });
  afterEach(async () => {
    if (current === undefined) return;
    const { stack, checker } = current;
    current = undefined;
    try {
      expect(await checker.problems()).toEqual([]);
      for (const body of stack.upstreamBodies()) expect(validateOpenAiSchema('CreateChatCompletionRequest', body)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
  return async (env = {}) => {
    current = { stack: await startServiceStack(env), checker: specCheckingFetch() };
    return current;
  };
}
