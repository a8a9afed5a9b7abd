import type { ChatRequest } from './types.js';

/** A model turn let through by a {@link TurnGate}: send it within `maxTokens`, then settle it exactly once. */
export interface GrantedTurn {
  /** The most output tokens the turn may use: the request is sent with this maximum. */
  readonly maxTokens: number;
  /** Ends the turn's admission: charges `costUsd` (0 for a turn that failed before an answer) and gives back unused tokens. Only the first call counts. */
  settle(costUsd: number, usedTokens: number): Promise<void>;
}

/**
 * Admits each model turn of a call before it is sent, and is told what it cost when it ends: a
 * tenant's limits and budgets (`executePrompt(…, { tenant })`). A tool loop or a repair takes
 * several turns; each is admitted and settled on its own, so every turn re-checks the budget and
 * a turn it refuses ends the call with that refusal, the turns before it already settled.
 */
export type TurnGate = (request: ChatRequest, context: { noFallbacks: boolean; signal: AbortSignal | undefined }) => Promise<GrantedTurn>;
