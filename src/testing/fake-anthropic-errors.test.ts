import { describe, expect, it } from 'vitest';
import { anthropicWire } from './fake-anthropic-wire.js';

describe("the fake's Anthropic error bodies", () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [402, 'billing_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ])('names a %i by the type Anthropic gives it (%s)', (status, type) => {
    expect(anthropicWire.errorBody(status, undefined, 'm')).toEqual({ type: 'error', error: { type, message: 'm' } });
  });
});
