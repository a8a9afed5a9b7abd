/** How a server in the OpenAI family takes a request. */
export interface OpenAiDialect {
  /** `max_completion_tokens` (OpenAI) or the older `max_tokens` (Azure's GA versions, most compatible servers). */
  tokenField: 'max_completion_tokens' | 'max_tokens';
  /** Whether `response_format: json_schema` is sent as is; otherwise JSON mode plus the schema in the system message. */
  nativeJsonSchema: boolean;
  /** Whether `developer` messages are sent as such; otherwise as `system`, which every compatible server knows. */
  developerRole: boolean;
  /**
   * Whether an earlier answer's images (`AssistantMessage.images`) go back on its assistant message
   * as `images`, the field compatible servers that make images answer them in; OpenAI's and Azure's
   * assistant messages have no place for them, so they name them unsupported instead.
   */
  answerImages: boolean;
}
