import type { FinishReason } from '../../types.js';

/**
 * Maps Anthropic's `stop_reason`. A `tool_use` stop that only called the structured-output tool is
 * the normal end of a structured answer (`stop`); `refusal` is an answer whose finish is `content_filter`.
 */
export function mapAnthropicStopReason(reason: string | null | undefined, onlyAnswerTool: boolean): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return onlyAnswerTool ? 'stop' : 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'unknown';
  }
}
