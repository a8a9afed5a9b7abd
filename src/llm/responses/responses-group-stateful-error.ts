import { GroundworkError } from '../../errors/groundwork-error.js';

/** The fields of a Responses API call that tie it to the deployment holding earlier state. */
export type StatefulResponsesField = 'previous_response_id' | 'conversation';

/**
 * A forwarded Responses API call for a model group used a field that needs the deployment holding
 * its state (`previous_response_id`, `conversation`), while the group (with its fallback groups)
 * has more than one deployment with the Responses API: the call could reach another account, which
 * knows nothing of that state. Nothing was sent; `serve` answers 400 with `param` naming the field.
 * (`background: true` is no such field: polling, cancelling and deleting a background response
 * find it at whichever deployment made it.)
 */
export class ResponsesGroupStatefulError extends GroundworkError {
  readonly group: string;
  readonly param: StatefulResponsesField;

  constructor(group: string, field: StatefulResponsesField, deployments: readonly string[]) {
    super(
      'llm_unsupported_params',
      `${field} cannot be used with the model group "${group}": it has ${deployments.length} deployments with the Responses API ` +
        `(${deployments.join(', ')}), and the state it refers to is held by one deployment only. ` +
        'Nothing was sent. Name a group with exactly one such deployment (fallback groups included), or send the call without it.',
    );
    this.group = group;
    this.param = field;
  }
}

/** The first field of `body` that ties a call to one deployment's state, if any. */
export function statefulField(body: Readonly<Record<string, unknown>>): StatefulResponsesField | undefined {
  const previous = body['previous_response_id'];
  if (typeof previous === 'string' ? previous !== '' : previous !== undefined && previous !== null) return 'previous_response_id';
  const conversation = body['conversation'];
  if (conversation !== undefined && conversation !== null) return 'conversation';
  return undefined;
}
