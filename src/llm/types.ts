/*
 * Groundwork's provider-neutral model of a chat call, one concept a file under `model/`. Every
 * stage of the call path carries it untouched; only `providers/<name>/` translates it to a wire.
 */
export type { AnswerMessage, ChatChoice, ChatCompletion } from './model/chat-completion.js';
export type {
  AssistantMessage,
  ChatMessage,
  ChatRole,
  DeveloperMessage,
  SystemMessage,
  ToolMessage,
  UserMessage,
} from './model/chat-message.js';
export type { ChatRequest, ReasoningEffort } from './model/chat-request.js';
export type {
  ChatStreamEvent,
  LogprobsDelta,
  ReasoningDelta,
  RefusalDelta,
  StreamDone,
  StreamStart,
  TextDelta,
  ToolCallDelta,
} from './model/chat-stream-event.js';
export type {
  AnswerImagePart,
  AssistantContentPart,
  AudioPart,
  ContentPart,
  FilePart,
  ImagePart,
  RefusalPart,
  TextPart,
  UserContentPart,
} from './model/content-part.js';
export type { FinishReason } from './model/finish-reason.js';
export type { LlmProvider } from './model/llm-provider.js';
export type { ChoiceLogprobs, TokenLogprob } from './model/logprobs.js';
export type { ReasoningBlock, RedactedReasoning, ThinkingReasoning } from './model/reasoning-block.js';
export type { ResponseFormat } from './model/response-format.js';
export type { TokenUsage } from './model/token-usage.js';
export type { FunctionTool, ToolChoice } from './model/tool.js';
export type { ToolCall } from './model/tool-call.js';
