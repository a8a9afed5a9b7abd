/** One made-up token log probability, in OpenAI's wire shape. */
export interface FakeTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** Splits text into word-like tokens: each word with the spaces after it. */
export function fakeTokens(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

function entry(token: string, logprob: number): { token: string; logprob: number; bytes: number[] } {
  return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
}

/**
 * Made-up, deterministic log probabilities for `text`, one per word-like token, each with `top`
 * alternatives (the token itself first, then `alt1`, `alt2`…, less likely).
 */
export function fakeLogprobs(text: string, top: number): FakeTokenLogprob[] {
  return fakeTokens(text).map((token, position) => {
    const logprob = -0.01 * (position + 1);
    const alternatives = Array.from({ length: Math.max(0, top) }, (_, rank) =>
      rank === 0 ? entry(token, logprob) : entry(`alt${rank}`, logprob - rank),
    );
    return { ...entry(token, logprob), top_logprobs: alternatives };
  });
}
