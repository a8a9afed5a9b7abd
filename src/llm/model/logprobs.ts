/** One token's log probability, with the most likely alternatives when asked for (`topLogprobs`). */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** UTF-8 bytes of the token, or null when it has none. */
  bytes: number[] | null;
  topLogprobs: Array<{ token: string; logprob: number; bytes: number[] | null }>;
}

/** Log probabilities of a choice's content and refusal tokens. */
export interface ChoiceLogprobs {
  content: TokenLogprob[] | null;
  refusal: TokenLogprob[] | null;
}
