import { describe, expect, it } from 'vitest';
import { outcomeKind } from './outcome-kind.js';

describe('outcomeKind', () => {
  it("counts every refusal of Groundwork's own limits as rate-limited", () => {
    for (const code of ['rate_limit_exceeded', 'queue_full', 'queue_timeout', 'rate_limit_store_unavailable', 'no_deployment_available'])
      expect(outcomeKind(code), code).toBe('rate_limited');
  });

  it('sorts the other failures by kind', () => {
    expect(outcomeKind('circuit_open')).toBe('breaker');
    expect(outcomeKind('provider_timeout')).toBe('timeout');
    expect(outcomeKind('insufficient_quota')).toBe('budget');
    expect(outcomeKind('provider_server_error')).toBe('provider');
    expect(outcomeKind('content_filter')).toBe('other');
  });
});
