import type { FakeWire } from './fake-behaviour.js';

/** What a request path asks for. */
export type FakeRoute =
  | { kind: 'chat'; wire: FakeWire; deployment?: string; model?: string; stream?: boolean }
  | { kind: 'embeddings'; wire: 'openai' | 'azure' | 'gemini' | 'bedrock'; deployment?: string; model?: string; method?: string }
  | { kind: 'responses'; wire: 'openai' | 'azure' }
  | { kind: 'response'; wire: 'openai' | 'azure'; id: string }
  | { kind: 'response-cancel' | 'response-delete' | 'response-input-items'; wire: 'openai' | 'azure'; id: string }
  | { kind: 'models'; anthropic: boolean; gemini?: boolean }
  | { kind: 'unknown' };

/** Gemini API (`/v1beta/models/{model}:method`) and Vertex AI (`…/publishers/google/models/{model}:method`) paths. */
const GEMINI = /\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|embedContent|predict)$/;
/** Bedrock runtime paths: `/model/{modelId}/converse`, `/converse-stream`, `/invoke`. */
const BEDROCK = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/;

const AZURE_CHAT = /^\/openai\/deployments\/([^/]+)\/chat\/completions\/?$/;
const AZURE_EMBEDDINGS = /^\/openai\/deployments\/([^/]+)\/embeddings\/?$/;
/**
 * The Responses API: OpenAI's `/v1/responses`, Azure's v1 API `/openai/v1/responses`; with an id to
 * retrieve or delete, then `/cancel` or `/input_items`.
 */
const RESPONSES = /^(\/openai)?(?:\/v1)?\/responses(?:\/([^/]+)(?:\/(cancel|input_items))?)?\/?$/;

/** Reads the route from the method, path and headers. */
export function routeOf(method: string, path: string, headers: Record<string, string>): FakeRoute {
  const responses = RESPONSES.exec(path);
  if (responses !== null) {
    const wire = responses[1] === undefined ? 'openai' : 'azure';
    if (method === 'POST' && responses[2] === undefined) return { kind: 'responses', wire };
    const id = responses[2] === undefined ? undefined : decodeURIComponent(responses[2]);
    const action = responses[3];
    if (id !== undefined && action === undefined && method === 'GET') return { kind: 'response', wire, id };
    if (id !== undefined && action === undefined && method === 'DELETE') return { kind: 'response-delete', wire, id };
    if (id !== undefined && action === 'cancel' && method === 'POST') return { kind: 'response-cancel', wire, id };
    if (id !== undefined && action === 'input_items' && method === 'GET') return { kind: 'response-input-items', wire, id };
  }
  if (method === 'POST') {
    const gemini = GEMINI.exec(path);
    if (gemini !== null) {
      const model = decodeURIComponent(gemini[1] ?? '');
      const action = gemini[2] ?? '';
      if (action === 'generateContent' || action === 'streamGenerateContent')
        return { kind: 'chat', wire: 'gemini', model, stream: action === 'streamGenerateContent' };
      return { kind: 'embeddings', wire: 'gemini', model, method: action };
    }
    const bedrock = BEDROCK.exec(path);
    if (bedrock !== null) {
      const model = decodeURIComponent(bedrock[1] ?? '');
      if (bedrock[2] === 'invoke') return { kind: 'embeddings', wire: 'bedrock', model, method: 'invoke' };
      return { kind: 'chat', wire: 'bedrock', model, stream: bedrock[2] === 'converse-stream' };
    }
    const azure = AZURE_CHAT.exec(path);
    if (azure !== null) return { kind: 'chat', wire: 'azure', deployment: decodeURIComponent(azure[1] ?? '') };
    if (/\/chat\/completions\/?$/.test(path)) return { kind: 'chat', wire: 'openai' };
    const azureEmbeddings = AZURE_EMBEDDINGS.exec(path);
    if (azureEmbeddings !== null) return { kind: 'embeddings', wire: 'azure', deployment: decodeURIComponent(azureEmbeddings[1] ?? '') };
    if (/\/embeddings\/?$/.test(path)) return { kind: 'embeddings', wire: 'openai' };
    if (/\/messages\/?$/.test(path)) return { kind: 'chat', wire: 'anthropic' };
  }
  if (method === 'GET' && /\/models\/?$/.test(path)) {
    const gemini = headers['x-goog-api-key'] !== undefined || /^\/v1beta1?\//.test(path) || path.includes('/publishers/google/');
    return { kind: 'models', anthropic: headers['anthropic-version'] !== undefined, gemini };
  }
  return { kind: 'unknown' };
}

/** The credential a request carries, in whichever header its provider uses. */
export function credentialOf(headers: Record<string, string>): string | undefined {
  const authorization = headers['authorization'];
  // AWS Signature Version 4: the access key id is the credential's first part.
  const sigv4 = authorization === undefined ? null : /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/.exec(authorization);
  if (sigv4 !== null) return sigv4[1];
  const bearer = authorization?.replace(/^Bearer\s+/i, '');
  return headers['x-api-key'] ?? headers['api-key'] ?? headers['x-goog-api-key'] ?? bearer;
}

/** Header names that carry credentials. */
export const AUTH_HEADERS = ['authorization', 'api-key', 'x-api-key', 'x-goog-api-key', 'x-amz-security-token'];
