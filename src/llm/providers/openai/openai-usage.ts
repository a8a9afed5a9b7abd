import type { TokenUsage } from '../../types.js';

/** The usage block of an OpenAI chat completion (or of the last chunk of a stream). */
export interface OpenAiUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null; audio_tokens?: number | null } | null;
  completion_tokens_details?: {
    reasoning_tokens?: number | null;
    audio_tokens?: number | null;
    accepted_prediction_tokens?: number | null;
    rejected_prediction_tokens?: number | null;
  } | null;
}

/** Maps OpenAI's usage, every detail it reports, to {@link TokenUsage}; absent usage counts as zero. */
export function mapOpenAiUsage(usage: OpenAiUsage | null | undefined): TokenUsage {
  const promptTokens = usage?.prompt_tokens ?? 0;
  const completionTokens = usage?.completion_tokens ?? 0;
  const result: TokenUsage = { promptTokens, completionTokens, totalTokens: usage?.total_tokens ?? promptTokens + completionTokens };
  const prompt = usage?.prompt_tokens_details;
  const completion = usage?.completion_tokens_details;
  if (prompt?.cached_tokens != null) result.cachedPromptTokens = prompt.cached_tokens;
  if (prompt?.audio_tokens != null) result.audioPromptTokens = prompt.audio_tokens;
  if (completion?.reasoning_tokens != null) result.reasoningTokens = completion.reasoning_tokens;
  if (completion?.audio_tokens != null) result.audioCompletionTokens = completion.audio_tokens;
  if (completion?.accepted_prediction_tokens != null) result.acceptedPredictionTokens = completion.accepted_prediction_tokens;
  if (completion?.rejected_prediction_tokens != null) result.rejectedPredictionTokens = completion.rejected_prediction_tokens;
  return result;
}
