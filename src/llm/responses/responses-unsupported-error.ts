import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * A Responses API request holds something that cannot be translated to the provider's chat API
 * (a built-in tool, `previous_response_id` without a store, background mode…). Nothing was sent;
 * `serve` answers 400 with the first field as `param`.
 */
export class ResponsesUnsupportedError extends GroundworkError {
  readonly provider: string;
  /** The fields at fault, by their wire names (`tools[0]`, `input[2].type`), each with why. */
  readonly fields: readonly string[];
  /** The first field, for an HTTP error's `param`. */
  readonly param: string;

  constructor(provider: string, problems: ReadonlyArray<{ field: string; why: string }>) {
    const list = problems.map((problem) => `"${problem.field}" (${problem.why})`).join(', ');
    super(
      'llm_unsupported_params',
      `The Responses API request cannot be translated for the provider "${provider}", which has no Responses API: ${list}. ` +
        'Nothing was sent. Remove them, or configure OpenAI or Azure OpenAI, to which Responses requests are forwarded whole.',
    );
    this.provider = provider;
    this.fields = problems.map((problem) => problem.field);
    this.param = this.fields[0] ?? '';
  }
}
