import type { Logger } from '../observability/logger.js';
import type { GroundworkMetrics } from '../observability/metrics.js';
import type { ChatRequest, LlmProvider } from './types.js';
import { UnsupportedFieldsError } from './unsupported-fields-error.js';

/** The request's top-level fields by their OpenAI wire names. */
const MODEL_KEY_OF_WIRE: Readonly<Record<string, keyof ChatRequest>> = {
  temperature: 'temperature',
  top_p: 'topP',
  max_tokens: 'maxTokens',
  max_completion_tokens: 'maxTokens',
  stop: 'stop',
  seed: 'seed',
  response_format: 'responseFormat',
  tools: 'tools',
  tool_choice: 'toolChoice',
  parallel_tool_calls: 'parallelToolCalls',
  n: 'n',
  logprobs: 'logprobs',
  top_logprobs: 'topLogprobs',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
  logit_bias: 'logitBias',
  user: 'user',
  metadata: 'metadata',
  store: 'store',
  service_tier: 'serviceTier',
  reasoning_effort: 'reasoningEffort',
  verbosity: 'verbosity',
};

/**
 * Message fields that only echo what the model itself made: an earlier answer's `images`, and an
 * earlier audio answer's `audio` (OpenAI's, by id). Every chat client sends an answer back as it
 * got it, so the drop policy may take them out of their message (the model's text stays), unlike
 * the caller's own content.
 */
const ECHOED_ANSWER_FIELD = /^messages\[(\d+)\]\.(images|audio)$/;

/** What to do with fields a provider cannot honour. */
export interface FieldSupportPolicy {
  /** Drop them (logged, counted) instead of refusing the call. */
  drop: boolean;
  logger: Logger;
  metrics?: GroundworkMetrics | undefined;
}

/**
 * The request as `provider` can take it: unchanged when it honours every field; else, with the
 * drop policy, without the top-level fields and echoed answer fields (`messages[i].images`,
 * `messages[i].audio`, see {@link ECHOED_ANSWER_FIELD}) it cannot honour (each logged and counted). Throws {@link UnsupportedFieldsError} otherwise, and
 * always for the caller's message content and for restrictions
 * (a `tool_choice` other than `auto`, `parallel_tool_calls: false`), which are never dropped:
 * without them the model could do what the caller forbade.
 */
export async function fitRequest(
  request: ChatRequest,
  provider: Pick<LlmProvider, 'name' | 'unsupportedFields'>,
  policy: FieldSupportPolicy,
): Promise<ChatRequest> {
  return applyFieldPolicy(request, provider.name, await provider.unsupportedFields(request), policy);
}

/** {@link fitRequest} once the provider has said which `fields` it cannot honour. */
export function applyFieldPolicy(
  request: ChatRequest,
  provider: string,
  fields: readonly string[],
  policy: FieldSupportPolicy,
): ChatRequest {
  if (fields.length === 0) return request;
  const contentFields = fields.filter((field) => !isDroppable(field, request) || isRestriction(field, request));
  if (!policy.drop || contentFields.length > 0) {
    throw new UnsupportedFieldsError(provider, policy.drop ? contentFields : fields, contentFields.length === 0);
  }
  const fitted: ChatRequest = { ...request };
  const passthrough = request.passthrough === undefined ? undefined : { ...request.passthrough };
  for (const field of fields) {
    const key = MODEL_KEY_OF_WIRE[field];
    const echoed = ECHOED_ANSWER_FIELD.exec(field);
    if (key !== undefined) delete fitted[key];
    else if (echoed !== null) fitted.messages = withoutEchoed(fitted.messages, Number(echoed[1]), echoed[2] as EchoedField);
    else if (passthrough !== undefined) delete passthrough[field];
    // A message's position would make a label per conversation length: the metric counts `messages[].images`, `messages[].audio`.
    policy.metrics?.droppedParams.inc({ provider, field: echoed === null ? field : `messages[].${echoed[2]}` });
  }
  if (passthrough !== undefined) {
    if (Object.keys(passthrough).length === 0) delete fitted.passthrough;
    else fitted.passthrough = passthrough;
  }
  policy.logger.warn(
    { provider, fields },
    `Dropped ${fields.join(', ')}: the provider "${provider}" cannot honour them (LLM_DROP_UNSUPPORTED_PARAMS=true)`,
  );
  return fitted;
}

/**
 * Whether dropping `field` would let the model do more than the request allows: call tools it was
 * told not to, other tools than the one named, no tool when one is required, several at once.
 */
function isRestriction(field: string, request: ChatRequest): boolean {
  if (field === 'tool_choice') return request.toolChoice !== undefined && request.toolChoice !== 'auto';
  if (field === 'parallel_tool_calls') return request.parallelToolCalls === false;
  return false;
}

function isDroppable(field: string, request: ChatRequest): boolean {
  return (
    MODEL_KEY_OF_WIRE[field] !== undefined ||
    ECHOED_ANSWER_FIELD.test(field) ||
    (request.passthrough !== undefined && field in request.passthrough)
  );
}

/** The assistant message fields {@link ECHOED_ANSWER_FIELD} names. */
type EchoedField = 'images' | 'audio';

/** `messages` with the message at `index` stripped of `field`; the caller's array and messages are left as they were. */
function withoutEchoed(messages: ChatRequest['messages'], index: number, field: EchoedField): ChatRequest['messages'] {
  const message = messages[index];
  if (message?.role !== 'assistant' || message[field] === undefined) return messages;
  const kept = { ...message };
  delete kept[field];
  return messages.with(index, kept);
}
