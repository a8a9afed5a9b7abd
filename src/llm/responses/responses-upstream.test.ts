import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.js';
import { responsesUpstream } from './responses-upstream.js';

/** An OpenAI upstream at `baseUrl` as written, as a model group's deployment in the routes file gives it. */
function openai(baseUrl: string, apiKey = 'sk-one') {
  const config = loadConfig({ env: { LLM_PROVIDER: 'openai', OPENAI_API_KEY: apiKey }, envFile: false });
  return responsesUpstream({ ...config, llm: { ...config.llm, openai: { ...config.llm.openai, baseUrl } } }, 'openai');
}

describe('responsesUpstream', () => {
  it('takes an OpenAI base URL with or without its trailing slash as one upstream', () => {
    const bare = openai('https://gateway.example/v1');
    const slashed = openai('https://gateway.example/v1/');
    expect(slashed.identity()).toBe(bare.identity());
    expect(slashed.target('/resp_1')).toEqual(bare.target('/resp_1'));
    expect(bare.target('/resp_1')).toEqual({ origin: 'https://gateway.example', path: '/v1/responses/resp_1' });
  });

  it('tells upstreams apart by their credentials, holding none of them in the identity', () => {
    const one = openai('https://gateway.example/v1', 'sk-one-secret');
    const other = openai('https://gateway.example/v1', 'sk-other-secret');
    expect(one.identity()).not.toBe(other.identity());
    expect(one.identity()).not.toContain('secret');
  });
});
