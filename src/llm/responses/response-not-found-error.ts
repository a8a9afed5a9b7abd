import { NotFoundError, ProviderError } from '../../errors/provider-errors.js';

/**
 * No upstream Groundwork could have stored a response at has one with this id: each was asked in
 * turn (the one that made it first, when this process remembers it) and each answered 404.
 * `asked` names them as the operator configured them: a provider (`openai`, `azure`), or a model
 * group's deployment (`azure deployment group/name`); never a URL or a key. `serve` answers 404
 * `response_not_found` naming them.
 */
export class ResponseNotFoundError extends NotFoundError {
  readonly responseId: string;
  /** The upstreams asked, in the order they were asked. */
  readonly asked: readonly string[];

  constructor(responseId: string, asked: readonly string[], provider: string) {
    const id = JSON.stringify(responseId.slice(0, 200));
    const where = asked.length === 0 ? 'any upstream the caller may reach (there is none)' : asked.join(', ');
    super(`no response with id ${id} at ${where}`, { provider, status: 404 });
    this.message =
      `No response with id ${id} at ${where}${asked.length === 0 ? '' : ' (each asked)'}: it was made elsewhere, sent with store: false, ` +
      'or deleted. Check the id, and that the upstream that made it is still configured.';
    this.responseId = responseId;
    this.asked = Object.freeze([...asked]);
  }

  /** True for this error from any copy of Groundwork. */
  static override isInstance(value: unknown): value is ResponseNotFoundError {
    return ProviderError.isInstance(value) && value.kind === 'not_found' && Array.isArray((value as { asked?: unknown }).asked);
  }
}
