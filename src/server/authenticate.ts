import type { IncomingMessage } from 'node:http';
import type { TenantCaller } from '../tenants/tenant-admission.js';
import { keyStatus } from '../tenants/virtual-key.js';
import type { ApiKeyVerifier } from './api-key-verifier.js';
import { HttpError } from './http-error.js';
import type { ServiceTenants } from './service-tenants.js';

const MISSING = 'No API key provided: send it as "Authorization: Bearer <key>" or "api-key: <key>".';

/**
 * Checks the caller's key: a static `GROUNDWORK_API_KEYS` key (answers undefined), or, when the
 * service accepts virtual keys, a database key (answers its caller). Throws a 401 otherwise;
 * with virtual keys on, a key is always required, even without static keys.
 */
export async function authenticate(
  request: IncomingMessage,
  verifier: ApiKeyVerifier,
  tenants: ServiceTenants | undefined,
): Promise<TenantCaller | undefined> {
  const outcome = verifier.verify(request.headers.authorization, request.headers['api-key']);
  if (tenants === undefined) {
    if (outcome === 'missing') throw unauthorized('missing_api_key', MISSING);
    if (outcome === 'invalid') throw unauthorized('invalid_api_key', 'The API key is not valid for this service.');
    return undefined;
  }
  const token = presentedKey(request);
  if (token === undefined) throw unauthorized('missing_api_key', MISSING);
  if (verifier.enabled && outcome === 'ok') return undefined;
  const caller = await tenants.resolve(token);
  if (caller === undefined) throw unauthorized('invalid_api_key', 'The API key is not valid for this service.');
  const status = keyStatus(caller.key, new Date());
  if (status !== 'active') throw unauthorized('invalid_api_key', `The API key is ${status}; ask the service's operator for a valid key.`);
  return caller;
}

/** The key in `Authorization: Bearer <key>`, else in Azure's `api-key` header. */
function presentedKey(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  const apiKey = request.headers['api-key'];
  const azure = typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
  return match?.[1] ?? azure;
}

function unauthorized(code: string, message: string): HttpError {
  return new HttpError({ status: 401, type: 'invalid_request_error', code, message });
}
