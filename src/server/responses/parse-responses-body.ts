import type { ResponsesBody } from '../../llm/responses/responses-types.js';
import { HttpError } from '../http-error.js';

function invalid(param: string, message: string): HttpError {
  return new HttpError({ status: 400, type: 'invalid_request_error', code: 'invalid_request', param, message });
}

/**
 * Checks the little of a `CreateResponse` body the service itself relies on: an object, a
 * `model`, `input` as text or a list, `stream` a boolean. Everything else is the upstream's to
 * judge (forwarded) or the translation's (which names what it cannot carry). Never quotes the input.
 */
export function parseResponsesBody(body: unknown): ResponsesBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'The request body must be a JSON object.');
  const record = body as ResponsesBody;
  if (typeof record['model'] !== 'string' || record['model'] === '') throw invalid('model', 'Invalid model: a model name is required.');
  const input = record['input'];
  if (input !== undefined && typeof input !== 'string' && !Array.isArray(input))
    throw invalid('input', 'Invalid input: must be a string or a list of input items.');
  const stream = record['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalid('stream', 'Invalid stream: must be a boolean.');
  return record;
}
