import { describe, expect, it } from 'vitest';
import { mapGeminiError } from './gemini-errors.js';

/** An `ApiError` as `@google/genai` throws it: the status, and the whole body as JSON text in the message. */
function apiError(status: number, body: unknown): Error {
  const error = new Error(`got status: ${status} . ${JSON.stringify(body)}`);
  error.name = 'ApiError';
  Object.assign(error, { status });
  return error;
}

/** A 429 as the Gemini API sends it, words and all, for the quota `quotaId` names. */
function quotaBody(quotaId: string, quotaValue = '250000'): unknown {
  return {
    error: {
      code: 429,
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_input_token_count, limit: 250000, model: gemini-2.5-flash\nPlease retry in 26.519186765s.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.Help',
          links: [{ description: 'Learn more', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
        },
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
              quotaId,
              quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
              quotaValue,
            },
          ],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '26s' },
      ],
    },
  };
}

const context = { model: 'gemini-2.5-flash', signal: new AbortController().signal };

describe('mapGeminiError', () => {
  it('makes a per-minute 429 a retryable rate limit with RetryInfo’s wait, whatever its words say of billing', () => {
    const error = mapGeminiError(apiError(429, quotaBody('GenerateContentInputTokensPerModelPerMinute-FreeTier')), context);
    expect(error).toMatchObject({ name: 'RateLimitedError', kind: 'rate_limited', retryable: true, retryAfterMs: 26_000, status: 429 });
  });

  it('makes a 429 with no quota violation a rate limit too', () => {
    const body = quotaBody('x') as { error: { details: unknown[] } };
    body.error.details = body.error.details.slice(2);
    expect(mapGeminiError(apiError(429, body), context)).toMatchObject({ name: 'RateLimitedError', retryable: true, retryAfterMs: 26_000 });
  });

  it('makes a per-day quota, or a quota of 0, an exhausted quota that no retry helps', () => {
    expect(mapGeminiError(apiError(429, quotaBody('GenerateRequestsPerDayPerProjectPerModel-FreeTier')), context)).toMatchObject({
      name: 'QuotaExhaustedError',
      kind: 'quota_exhausted',
      retryable: false,
    });
    expect(mapGeminiError(apiError(429, quotaBody('GenerateContentInputTokensPerModelPerMinute-FreeTier', '0')), context)).toMatchObject({
      name: 'QuotaExhaustedError',
      retryable: false,
    });
  });
});
