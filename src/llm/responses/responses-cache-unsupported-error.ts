import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * A forwarded Responses API call (OpenAI, Azure OpenAI) asked the response cache to answer or store
 * it (`cache: true`, `'use'` or `'refresh'`; in `serve`, `X-Groundwork-Cache: use` or `refresh`).
 * The cache holds chat answers; a forwarded call reaches the provider whole and its answer comes
 * back as the provider made it (its id, stored state included), never from or into the cache.
 * Nothing was sent; `serve` answers 400 with the option as `param`.
 */
export class ResponsesCacheUnsupportedError extends GroundworkError {
  /** The option at fault: `cache` in process, `X-Groundwork-Cache` in `serve`. */
  readonly param: string;

  constructor(provider: string, param: 'cache' | 'X-Groundwork-Cache') {
    super(
      'llm_unsupported_params',
      `A Responses API call forwarded to the provider "${provider}" cannot be cached: the response cache holds chat answers, ` +
        `and a forwarded call is answered by the provider whole, with its own response id and stored state. Nothing was sent. ` +
        `Leave out ${param} (or set it to ${param === 'cache' ? 'false' : 'bypass'}), or use chat completions to cache answers.`,
    );
    this.param = param;
  }
}
