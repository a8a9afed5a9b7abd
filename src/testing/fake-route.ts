import type { FakeWire } from './fake-behaviour.js';

/** What a request path asks for. */
export type FakeRoute =
  | { kind: 'chat'; wire: FakeWire; deployment?: string }
  | { kind: 'embeddings'; wire: 'openai' | 'azure'; deployment?: string }
  | { kind: 'responses'; wire: 'openai' | 'azure' }
  | { kind: 'response'; wire: 'openai' | 'azure'; id: string }
  | { kind: 'models'; anthropic: boolean }
  | { kind: 'unknown' };

const AZURE_CHAT = /^\/openai\/deployments\/([^/]+)\/chat\/completions\/?$/;
const AZURE_EMBEDDINGS = /^\/openai\/deployments\/([^/]+)\/embeddings\/?$/;
/** The Responses API: OpenAI's `/v1/responses`, Azure's v1 API `/openai/v1/responses`; with an id for retrieval. */
const RESPONSES = /^(\/openai)?(?:\/v1)?\/responses(?:\/([^/]+))?\/?$/;

/** Reads the route from the method, path and headers. */
export function routeOf(method: string, path: string, headers: Record<string, string>): FakeRoute {
  const responses = RESPONSES.exec(path);
  if (responses !== null) {
    const wire = responses[1] === undefined ? 'openai' : 'azure';
    if (method === 'POST' && responses[2] === undefined) return { kind: 'responses', wire };
    if (method === 'GET' && responses[2] !== undefined) return { kind: 'response', wire, id: decodeURIComponent(responses[2]) };
  }
  if (method === 'POST') {
    const azure = AZURE_CHAT.exec(path);
    if (azure !== null) return { kind: 'chat', wire: 'azure', deployment: decodeURIComponent(azure[1] ?? '') };
    if (/\/chat\/completions\/?$/.test(path)) return { kind: 'chat', wire: 'openai' };
    const azureEmbeddings = AZURE_EMBEDDINGS.exec(path);
    if (azureEmbeddings !== null) return { kind: 'embeddings', wire: 'azure', deployment: decodeURIComponent(azureEmbeddings[1] ?? '') };
    if (/\/embeddings\/?$/.test(path)) return { kind: 'embeddings', wire: 'openai' };
    if (/\/messages\/?$/.test(path)) return { kind: 'chat', wire: 'anthropic' };
  }
  if (method === 'GET' && /\/models\/?$/.test(path)) return { kind: 'models', anthropic: headers['anthropic-version'] !== undefined };
  return { kind: 'unknown' };
}

/** The credential a request carries, in whichever header its provider uses. */
export function credentialOf(headers: Record<string, string>): string | undefined {
  const bearer = headers['authorization']?.replace(/^Bearer\s+/i, '');
  return headers['x-api-key'] ?? headers['api-key'] ?? bearer;
}

/** Header names that carry credentials. */
export const AUTH_HEADERS = ['authorization', 'api-key', 'x-api-key'];
