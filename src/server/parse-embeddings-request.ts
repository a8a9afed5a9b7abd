import { z } from 'zod';
import { HttpError } from './http-error.js';
import type { ServiceEmbeddingRequest } from './service-backend.js';

const token = z.number().int().min(0);
const text = z.string().min(1);

/**
 * OpenAI's `CreateEmbeddingRequest` body. Strict, as OpenAI's own schema is: a field it does not
 * hold (another server's `input_type`, `truncate`) is refused by name, neither dropped nor sent on,
 * since the per-input cache keys vectors by model, dimensions and input only.
 */
const embeddingsBodySchema = z.strictObject({
  input: z.union([text, z.array(text).min(1), z.array(token).min(1), z.array(z.array(token).min(1)).min(1)]),
  model: z.string().min(1),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
});

const INPUT_FORMS =
  'must be a non-empty text, an array of non-empty texts, an array of token ids (whole numbers of at least 0), ' +
  'or an array of non-empty arrays of token ids, one form throughout';

/** An embeddings request as the route handles it. */
export interface ParsedEmbeddingsRequest {
  request: ServiceEmbeddingRequest;
  /** The model the caller named, echoed in the answer. */
  model: string;
  encoding: 'float' | 'base64';
}

/**
 * Validates an OpenAI embeddings body: `input` as one text, texts, one token array or token
 * arrays, and no field OpenAI's request does not hold. Throws a 400 {@link HttpError} naming the
 * field at fault, never quoting the input.
 */
export function parseEmbeddingsRequest(body: unknown): ParsedEmbeddingsRequest {
  const result = embeddingsBodySchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    // An unknown key is reported on the body: name the key itself, which is the field at fault.
    if (issue?.code === 'unrecognized_keys') {
      const param = issue.keys[0] ?? '';
      throw invalidParam(
        param,
        'is not a field of OpenAI’s embeddings request, so this service refuses it rather than drop it or send it on',
      );
    }
    if (issue === undefined || issue.path.length === 0) {
      throw new HttpError({ status: 400, type: 'invalid_request_error', code: 'invalid_body', message: 'The body must be a JSON object.' });
    }
    const param = issue.path.map(String).join('.');
    // No form of the union fits (a mix of texts and token arrays, a token that is no whole number): say what fits.
    if (issue.code === 'invalid_union' && param === 'input') throw invalidParam(param, INPUT_FORMS);
    throw invalidParam(param, issue.message);
  }
  const data = result.data;
  const input = data.input;
  const inputs =
    typeof input === 'string'
      ? [input]
      : input.every((item) => typeof item === 'number')
        ? [input as number[]]
        : (input as Array<string | number[]>);
  const request: ServiceEmbeddingRequest = { inputs, model: data.model };
  if (data.dimensions !== undefined) request.dimensions = data.dimensions;
  if (data.user !== undefined) request.user = data.user;
  return { request, model: data.model, encoding: data.encoding_format ?? 'float' };
}

function invalidParam(param: string, problem: string): HttpError {
  return new HttpError({
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_request',
    param,
    message: `Invalid ${param}: ${problem}.`,
  });
}
