import type { ChoiceLogprobs, TokenLogprob } from '../../types.js';

/** One token's log probability as OpenAI sends it. */
interface OpenAiTokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
  top_logprobs?: Array<{ token: string; logprob: number; bytes?: number[] | null }> | null;
}

/** A choice's `logprobs` as OpenAI sends it. */
export interface OpenAiLogprobs {
  content?: OpenAiTokenLogprob[] | null;
  refusal?: OpenAiTokenLogprob[] | null;
}

function token(entry: OpenAiTokenLogprob): TokenLogprob {
  return {
    token: entry.token,
    logprob: entry.logprob,
    bytes: entry.bytes ?? null,
    topLogprobs: (entry.top_logprobs ?? []).map((top) => ({ token: top.token, logprob: top.logprob, bytes: top.bytes ?? null })),
  };
}

/** Maps a choice's `logprobs`; undefined when the answer has none. */
export function mapOpenAiLogprobs(logprobs: OpenAiLogprobs | null | undefined): ChoiceLogprobs | undefined {
  if (logprobs === null || logprobs === undefined) return undefined;
  return { content: logprobs.content?.map(token) ?? null, refusal: logprobs.refusal?.map(token) ?? null };
}
