/** Why the model stopped. `content_filter` covers refusals and filtered answers. */
export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'unknown';
