import { describe, expect, it } from 'vitest';
import { RESPONSE_ORIGINS_CAPACITY, ResponseOrigins } from './response-origins.js';

const openai = { provider: 'openai', model: 'gpt-4o-mini' } as const;
const azure = { provider: 'azure', model: 'fallback-deploy' } as const;

describe('ResponseOrigins', () => {
  it('recalls the target that made each id', () => {
    const origins = new ResponseOrigins();
    origins.remember('resp_1', openai);
    origins.remember('resp_2', azure);
    expect(origins.recall('resp_1')).toEqual(openai);
    expect(origins.recall('resp_2')).toEqual(azure);
    expect(origins.recall('resp_3')).toBeUndefined();
  });

  it('never holds more ids than its capacity, forgetting the least recently used first', () => {
    const origins = new ResponseOrigins(3);
    for (const id of ['resp_1', 'resp_2', 'resp_3']) origins.remember(id, openai);
    // Retrieved again, resp_1 becomes the most recently used: resp_2 is the next to go.
    expect(origins.recall('resp_1')).toEqual(openai);
    origins.remember('resp_4', azure);
    expect(origins.size).toBe(3);
    expect(origins.recall('resp_2')).toBeUndefined();
    expect(['resp_1', 'resp_3', 'resp_4'].map((id) => origins.recall(id)?.provider)).toEqual(['openai', 'openai', 'azure']);
    // Remembering a known id again replaces it without growing.
    origins.remember('resp_3', azure);
    expect(origins.size).toBe(3);
    expect(origins.recall('resp_3')).toEqual(azure);
  });

  it('stays at its default bound however many responses are made', () => {
    const origins = new ResponseOrigins();
    for (let index = 0; index < RESPONSE_ORIGINS_CAPACITY * 3; index++) origins.remember(`resp_${index}`, openai);
    expect(origins.size).toBe(RESPONSE_ORIGINS_CAPACITY);
    expect(origins.recall('resp_0')).toBeUndefined();
    expect(origins.recall(`resp_${RESPONSE_ORIGINS_CAPACITY * 3 - 1}`)).toEqual(openai);
  });

  it('forgets an id only while it is still remembered for the target that answered 404', () => {
    const origins = new ResponseOrigins();
    origins.remember('resp_1', openai);
    const stale = origins.recall('resp_1');
    // Meanwhile another retrieval found it elsewhere.
    origins.remember('resp_1', azure);
    origins.forget('resp_1', stale!);
    expect(origins.recall('resp_1')).toEqual(azure);
    origins.forget('resp_1', origins.recall('resp_1')!);
    expect(origins.recall('resp_1')).toBeUndefined();
  });

  it('refuses a capacity that is not a whole number of at least 1', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new ResponseOrigins(capacity)).toThrow(RangeError);
  });
});
