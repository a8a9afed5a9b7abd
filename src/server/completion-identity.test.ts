import { describe, expect, it } from 'vitest';
import { newCompletionIdentity, streamIdentity } from './completion-identity.js';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe('streamIdentity', () => {
  it('keeps the provider’s id and creation time', () => {
    expect(streamIdentity({ id: 'chatcmpl-provider', created: 1_700_000_000 }, NOW)).toEqual({
      id: 'chatcmpl-provider',
      created: 1_700_000_000,
    });
  });

  it('takes each missing part on its own: the clock’s second for a named answer, a fresh id for a dated one', () => {
    expect(streamIdentity({ id: 'msg_provider' }, NOW)).toEqual({ id: 'msg_provider', created: Math.floor(NOW / 1000) });
    const dated = streamIdentity({ created: 1_700_000_000 }, NOW);
    expect(dated.created).toBe(1_700_000_000);
    expect(dated.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
  });

  it('makes a fresh identity, different each time, when the start names nothing', () => {
    const first = streamIdentity(undefined, NOW);
    const second = streamIdentity({}, NOW);
    expect(first).toMatchObject({ id: expect.stringMatching(/^chatcmpl-[0-9a-f]{32}$/), created: Math.floor(NOW / 1000) });
    expect(second.id).not.toBe(first.id);
    expect(newCompletionIdentity(NOW).created).toBe(Math.floor(NOW / 1000));
  });
});
