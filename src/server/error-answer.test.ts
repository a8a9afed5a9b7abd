import { describe, expect, it } from 'vitest';
import { ConnectionLostError } from '../db/connection-lost-error.js';
import { GroundworkError } from '../errors/groundwork-error.js';
import {
  AuthenticationError,
  BadRequestError,
  ContentFilterError,
  NotFoundError,
  ProviderConnectionError,
  ProviderServerError,
  ProviderTimeoutError,
  QuotaExhaustedError,
  RateLimitedError,
} from '../errors/provider-errors.js';
import { EmbeddingDimensionsMismatchError } from '../llm/embeddings/embedding-dimensions-mismatch-error.js';
import { errorAnswer } from './error-answer.js';
import { HttpError } from './http-error.js';
import { errorHeaders } from './service-headers.js';

/** Stands in for the resilience errors: a Groundwork error with a code and a wait hint. */
function refusal(code: string, retryAfterMs?: number): GroundworkError {
  return Object.assign(
    new GroundworkError(code, `refused: ${code}`, { retryable: true }),
    retryAfterMs === undefined ? {} : { retryAfterMs },
  );
}

const at = { provider: 'openai', model: 'gpt-4o-mini' };

describe('errorAnswer', () => {
  it.each([
    ['rate_limit_exceeded', 1200, 429, 1200],
    ['queue_full', undefined, 429, 1000],
    ['queue_timeout', undefined, 429, 1000],
    ['rate_limit_store_unavailable', 5000, 429, 5000],
    ['circuit_open', 30_000, 503, 30_000],
    ['pipeline_closed', undefined, 503, 1000],
  ])('maps Groundwork’s own refusal %s to %i with a wait', (code, retryAfterMs, status, wait) => {
    const answer = errorAnswer(refusal(code, retryAfterMs), 'r1');
    expect(answer).toMatchObject({ status, code, retryAfterMs: wait });
  });

  it('answers embedding vectors of the wrong length with their message: 400 naming dimensions when the call asked it, else 502, never a retry', () => {
    const ignored = new EmbeddingDimensionsMismatchError({ provider: 'azure', model: 'emb', expected: 256, got: 1536, askedByCall: true });
    const asked = errorAnswer(ignored, 'r1');
    expect(asked).toEqual({
      status: 400,
      type: 'invalid_request_error',
      code: 'embedding_dimensions_mismatch',
      message: ignored.message,
      param: 'dimensions',
    });
    expect(asked.message).toMatch(/returned 1536-dimension vectors where dimensions asked 256/);

    const wrong = new EmbeddingDimensionsMismatchError({
      provider: 'openai',
      model: 'text-embedding-3-small',
      expected: 1536,
      got: 768,
      askedByCall: false,
    });
    const upstream = errorAnswer(wrong, 'r1');
    expect(upstream).toEqual({
      status: 502,
      type: 'server_error',
      code: 'embedding_dimensions_mismatch',
      message: wrong.message,
      param: null,
    });
    expect(errorHeaders(wrong, upstream, 1)).toEqual({ 'x-groundwork-attempts': '1', 'x-should-retry': 'false' });
  });

  it('gives a lost database connection a retry hint only when its work was not applied, and stops SDK retries otherwise', () => {
    const rolledBack = new ConnectionLostError('lost: rolled back');
    const unknown = new ConnectionLostError('lost: may have been applied', { outcomeUnknown: true });
    const retried = errorAnswer(rolledBack, 'r1');
    expect(retried).toMatchObject({ status: 503, code: 'db_connection_lost', retryAfterMs: 1000 });
    expect(errorHeaders(rolledBack, retried, undefined)).toEqual({});
    const unsure = errorAnswer(unknown, 'r1');
    expect(unsure).toMatchObject({ status: 503, code: 'db_connection_lost' });
    expect(unsure.retryAfterMs).toBeUndefined();
    expect(errorHeaders(unknown, unsure, undefined)).toEqual({ 'x-should-retry': 'false' });
  });

  it('gives a provider failure whose outcome is unknown no retry hint, and stops SDK retries, even when its kind may pass', () => {
    const unknown = Object.assign(new ProviderConnectionError('lost after sending', { provider: 'openai', retryAfterMs: 2000 }), {
      outcomeUnknown: true,
    });
    const answer = errorAnswer(unknown, 'r1');
    expect(answer).toMatchObject({ status: 502, type: 'server_error' });
    expect(answer.retryAfterMs).toBeUndefined();
    expect(errorHeaders(unknown, answer, undefined)).toEqual({ 'x-should-retry': 'false' });
  });

  it('maps an invalid request to 400 and an unconfigured provider to 503', () => {
    expect(errorAnswer(refusal('llm_invalid_request'), 'r1')).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(errorAnswer(refusal('llm_not_configured'), 'r1')).toMatchObject({ status: 503, code: 'llm_not_configured' });
  });

  it('maps the deadline to 504 and any other Groundwork error with a wait hint to 429', () => {
    expect(errorAnswer(refusal('deadline_exceeded'), 'r1')).toMatchObject({ status: 504, code: 'deadline_exceeded' });
    expect(errorAnswer(refusal('something_new', 800), 'r1')).toMatchObject({ status: 429, retryAfterMs: 800 });
  });

  it('maps provider failures: caller mistakes pass through, upstream trouble is 502, our credentials are never the caller’s fault', () => {
    expect(errorAnswer(new BadRequestError('bad', at), 'r')).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(errorAnswer(new ContentFilterError('filtered', at), 'r')).toMatchObject({ status: 400, code: 'content_filter' });
    expect(errorAnswer(new NotFoundError('no model', at), 'r')).toMatchObject({ status: 404, param: 'model' });
    expect(errorAnswer(new ProviderServerError('boom', { ...at, status: 503, retryAfterMs: 2000 }), 'r')).toMatchObject({
      status: 502,
      retryAfterMs: 2000,
    });
    expect(errorAnswer(new ProviderTimeoutError('slow', at), 'r').status).toBe(502);
    expect(errorAnswer(new ProviderConnectionError('refused', at), 'r').status).toBe(502);
    expect(errorAnswer(new RateLimitedError('slow down', { ...at, retryAfterMs: 7000 }), 'r')).toMatchObject({
      status: 429,
      retryAfterMs: 7000,
    });
    expect(errorAnswer(new QuotaExhaustedError('no credit', at), 'r')).toMatchObject({ status: 429, code: 'insufficient_quota' });
    const auth = errorAnswer(new AuthenticationError('Incorrect API key provided: sk-abc…', { ...at, status: 401 }), 'r');
    expect(auth).toMatchObject({ status: 502, code: 'upstream_authentication' });
    expect(auth.message).not.toContain('sk-abc');
  });

  it('hides unexpected errors behind a 500 that names the request id', () => {
    const answer = errorAnswer(new TypeError('cannot read properties of undefined (password=hunter2)'), 'req-42');
    expect(answer).toMatchObject({ status: 500, code: 'internal_error' });
    expect(answer.message).toContain('req-42');
    expect(answer.message).not.toContain('hunter2');
  });

  it('passes an HttpError’s answer through', () => {
    const error = new HttpError({ status: 413, type: 'invalid_request_error', message: 'too big' });
    expect(errorAnswer(error, 'r')).toEqual({ status: 413, type: 'invalid_request_error', message: 'too big', code: null, param: null });
  });
});
