import type { FinishReason } from '../../types.js';

/**
 * Converse's `stopReason` in Groundwork's terms: `end_turn` and `stop_sequence` are `stop`,
 * `tool_use` is `tool_calls` (`stop` when the only call gave the structured answer), `max_tokens`
 * and a full context window are `length`, `content_filtered` and `guardrail_intervened` are
 * `content_filter`.
 */
export function mapBedrockStopReason(reason: string | undefined, onlyAnswer: boolean): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return onlyAnswer ? 'stop' : 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'content_filter';
    default:
      return 'unknown';
  }
}
