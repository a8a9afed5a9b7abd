import { describe, expect, it } from 'vitest';
import { ProviderServerError } from '../errors/provider-errors.js';
import { CircuitOpenError } from '../resilience/errors.js';
import { NoDeploymentAvailableError } from '../routing/no-deployment-error.js';
import { isLlmUnavailable } from './is-llm-unavailable.js';
import { LlmRequestError, StructuredOutputError } from './llm-errors.js';

describe('isLlmUnavailable', () => {
  it('is true when no deployment of a model group can take the call now, as for an open breaker', () => {
    const busy = new NoDeploymentAvailableError({
      group: 'chat',
      retryAfterMs: 1500,
      reasons: ['eu: circuit open', 'us: at its concurrency limit'],
    });
    expect(isLlmUnavailable(busy)).toBe(true);
    expect(isLlmUnavailable(new CircuitOpenError({ provider: 'openai', model: 'gpt-4o-mini', retryAt: 2000, now: 1000 }))).toBe(true);
    expect(isLlmUnavailable(new ProviderServerError('upstream broke', { provider: 'openai', model: 'gpt-4o-mini', status: 503 }))).toBe(
      true,
    );
  });

  it('is false for a request that is wrong, an answer that stayed invalid, and errors not Groundwork’s', () => {
    expect(isLlmUnavailable(new LlmRequestError(['messages: must not be empty']))).toBe(false);
    expect(isLlmUnavailable(new StructuredOutputError({ problem: 'not valid JSON', content: 'x', answers: 2 }))).toBe(false);
    expect(isLlmUnavailable(new Error('boom'))).toBe(false);
  });
});
