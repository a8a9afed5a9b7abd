/** How a server in the OpenAI family takes a request. */
export interface OpenAiDialect {
  /** `max_completion_tokens` (OpenAI) or the older `max_tokens` (Azure's GA versions, most compatible servers). */
  tokenField: 'max_completion_tokens' | 'max_tokens';
  /** Whether `response_format: json_schema` is sent as is; otherwise JSON mode plus the schema in the system message. */
  nativeJsonSchema: boolean;
  /** Whether `developer` messages are sent as such; otherwise as `system`, which every compatible server knows. */
  developerRole: boolean;
  /**
   * Whether the fields only compatible servers answer with go back on the assistant message that
   * echoes the answer, as they answered them: an image model's `images` (`AssistantMessage.images`)
   * and OpenRouter's `reasoning_details` (`AssistantMessage.reasoningDetails`). OpenAI's and Azure's
   * assistant messages have no place for images, so they name them unsupported instead, and never
   * answer reasoning details, so they get none back.
   */
  compatibleAnswerFields: boolean;
}
