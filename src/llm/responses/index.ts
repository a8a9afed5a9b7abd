export type { AnswerFieldReport } from './answer-extras.js';
export { type ChatPortOptions, llmChatPort } from './llm-chat-port.js';
export type { RespondOptions } from './respond-options.js';
export { ResponseEventBuilder } from './response-event-builder.js';
export { ResponseNotFoundError } from './response-not-found-error.js';
export { ResponseEnvelope, responseFromCompletion } from './response-object.js';
export { usageOfResponse } from './response-usage.js';
export { ResponsesCacheUnsupportedError } from './responses-cache-unsupported-error.js';
export { ResponsesGroupStatefulError, type StatefulResponsesField } from './responses-group-stateful-error.js';
export { ResponsesGroupUnsupportedError } from './responses-group-unsupported-error.js';
export type {
  ResponseObject,
  ResponseStreamEvent,
  ResponsesAnswer,
  ResponsesBody,
  ResponsesCallFacts,
  ResponsesEventStream,
  ResponsesResult,
} from './responses-types.js';
export { ResponsesUnsupportedError } from './responses-unsupported-error.js';
export { forwardsResponses } from './responses-upstream.js';
export { type TranslatedRequest, toChatRequest } from './to-chat-request.js';
export { type ChatPort, type ChatPortEvent, type ChatPortStart, translatedResponse } from './translated-response.js';
