import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { exchangeWhole } from './json-exchange.js';

/*
 * exchangeWhole over an undici Agent whose connector never finishes connecting (a host that
 * drops the connection's first packet, say): undici applies an abort only once connected.
 */

let agent: Agent | undefined;

afterEach(async () => {
  await agent?.destroy();
  agent = undefined;
});

/** An Agent whose connections never come up, and a count of the connections it was asked for. */
function neverConnecting(): { agent: Agent; attempts: () => number } {
  let attempts = 0;
  const made = new Agent({
    connect: () => {
      attempts++;
    },
  });
  agent = made;
  return { agent: made, attempts: () => attempts };
}

describe('exchangeWhole', () => {
  it('fails at once with the signal’s reason when aborted while the connection is still being made, never saying it was dispatched', async () => {
    const { agent, attempts } = neverConnecting();
    const controller = new AbortController();
    let dispatched = 0;
    const exchange = exchangeWhole(
      agent,
      { origin: 'http://upstream.invalid', path: '/v1/x', method: 'GET' },
      controller.signal,
      () => ({}),
      () => dispatched++,
    );
    await expect.poll(attempts).toBe(1);
    const reason = new Error('the share of time is up');
    controller.abort(reason);
    await expect(exchange).rejects.toBe(reason);
    expect(dispatched).toBe(0);
  });
});
