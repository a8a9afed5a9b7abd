import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * A provider cannot honour some fields of the request. The call is refused before anything is
 * sent (not retried); set `LLM_DROP_UNSUPPORTED_PARAMS=true` to drop such top-level fields, and an
 * earlier answer's images (`messages[i].images`), instead (never the caller's message content, nor a
 * restriction such as `tool_choice: none` or `parallel_tool_calls: false`).
 */
export class UnsupportedFieldsError extends GroundworkError {
  readonly provider: string;
  /** The fields, by their OpenAI wire names (`logit_bias`, `messages[1].content[0]`). */
  readonly fields: readonly string[];
  /** The first field, for an HTTP error's `param`. */
  readonly param: string;

  constructor(provider: string, fields: readonly string[], droppable: boolean) {
    const list = fields.map((field) => `"${field}"`).join(', ');
    const hint = droppable
      ? ' Remove them, choose another provider, or set LLM_DROP_UNSUPPORTED_PARAMS=true to drop them with a warning.'
      : ' Remove them or choose another provider (message content cannot be dropped, nor can a restriction such as tool_choice or parallel_tool_calls: false, whose absence would let the model do what it forbids).';
    super('llm_unsupported_params', `The provider "${provider}" cannot honour ${list}; the call was not sent.${hint}`);
    this.provider = provider;
    this.fields = fields;
    this.param = fields[0] ?? '';
  }
}
