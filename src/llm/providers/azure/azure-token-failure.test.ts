import { describe, expect, it } from 'vitest';
import { rejection } from '../../llm.test-helpers.js';
import type { ChatRequest } from '../../types.js';
import { createAzureProvider } from './azure-provider.js';

const request: ChatRequest = { model: '', messages: [{ role: 'user', content: 'Say hi' }] };
const signal = (): AbortSignal => new AbortController().signal;

describe('Azure OpenAI with an Entra ID token provider that fails', () => {
  const provider = () =>
    createAzureProvider({
      azureTokenProvider: () => Promise.reject(new Error('ManagedIdentityCredential: no managed identity endpoint found')),
      // Never reached: the token is asked for before anything is sent.
      endpoint: 'http://127.0.0.1:9',
      deployment: 'gpt-4o-mini',
      apiVersion: '2024-10-21',
    });

  it('fails a call with an AuthenticationError that says the token could not be had, and why', async () => {
    const error = await rejection(provider().complete(request, signal()));
    expect(error).toMatchObject({ name: 'AuthenticationError', kind: 'authentication', provider: 'azure', retryable: false });
    expect(error.message).toContain('could not get a Microsoft Entra ID token');
    expect(error.message).toContain('no managed identity endpoint found');
  });

  it('fails a stream the same way', async () => {
    const error = await rejection(
      (async () => {
        for await (const _event of provider().stream(request, signal()));
      })(),
    );
    expect(error).toMatchObject({ name: 'AuthenticationError', kind: 'authentication', provider: 'azure' });
  });
});
