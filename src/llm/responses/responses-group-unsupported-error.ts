import { GroundworkError } from '../../errors/groundwork-error.js';

/**
 * A forwarded Responses API call named a model group none of whose deployments (nor its fallback
 * groups') has the Responses API (OpenAI, Azure OpenAI). Nothing was sent; `serve` answers 400
 * with `param: "model"`.
 */
export class ResponsesGroupUnsupportedError extends GroundworkError {
  readonly group: string;
  readonly param = 'model';

  constructor(group: string, providers: readonly string[]) {
    super(
      'llm_unsupported_params',
      `The model group "${group}" has no deployment with the Responses API (its providers: ${providers.join(', ')}). ` +
        'Nothing was sent. Add an openai or azure deployment to the group or its fallbacks, or use chat completions.',
    );
    this.group = group;
  }
}
