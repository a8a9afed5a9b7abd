import type { LlmProviderName } from '../config/variables.js';
import { type AttemptRecord, attemptsOf, type CallTarget } from './call-pipeline.js';
import type { ChatCompletion, TokenUsage } from './types.js';

/** What one model turn of a call spent: a tool loop takes several, each its own ledger row. */
export interface StepTrace {
  provider: LlmProviderName;
  model: string;
  /** The deployment of a model group that answered this turn. */
  deployment?: string | undefined;
  usage: TokenUsage;
  costUsd: number;
  requestId: string | undefined;
  /** Attempts this turn took, retries and fallbacks included. */
  attempts: number;
}

/** What one call spent and did so far, kept even when it fails, for metrics and the ledger. */
export interface CallTrace {
  provider: LlmProviderName;
  model: string;
  /** The deployment of a model group that answered last. */
  deployment?: string | undefined;
  /** The target that answered last: the call's primary, or a fallback. */
  answeredBy?: CallTarget | undefined;
  attempts: AttemptRecord[];
  /** Summed over every step. */
  usage: TokenUsage;
  /** Summed over every step. */
  costUsd: number;
  requestId: string | undefined;
  /** Each answered model turn, in order. */
  steps: StepTrace[];
}

/** A fresh trace for a call aimed at `provider`/`model`. */
export function newTrace(provider: LlmProviderName, model: string): CallTrace {
  return { provider, model, attempts: [], usage: zeroUsage(), costUsd: 0, requestId: undefined, steps: [] };
}

/** No tokens at all. */
export function zeroUsage(): TokenUsage {
  return { promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0 };
}

/** Adds one answer (one model turn, after `attempts` attempts) to the trace: its tokens, its cost, who answered. */
export function addAnswer(trace: CallTrace, completion: ChatCompletion, costUsd: number, attempts = 1, target?: CallTarget): void {
  trace.steps.push({
    provider: completion.provider,
    model: completion.model,
    deployment: target?.deployment,
    usage: { ...completion.usage },
    costUsd,
    requestId: completion.requestId,
    attempts,
  });
  const usage = trace.usage;
  usage.promptTokens += completion.usage.promptTokens;
  usage.completionTokens += completion.usage.completionTokens;
  usage.totalTokens += completion.usage.totalTokens;
  usage.cachedPromptTokens = (usage.cachedPromptTokens ?? 0) + (completion.usage.cachedPromptTokens ?? 0);
  usage.reasoningTokens = (usage.reasoningTokens ?? 0) + (completion.usage.reasoningTokens ?? 0);
  trace.costUsd += costUsd;
  trace.provider = completion.provider;
  trace.model = completion.model;
  trace.deployment = target?.deployment;
  trace.answeredBy = target;
  trace.requestId = completion.requestId;
}

/**
 * A failed call's attempts, which the pipeline hands back with its error rather than its result;
 * a call to a model group that no deployment answered names the last deployment it was sent to.
 */
export function addFailedAttempts(trace: CallTrace, error: unknown): void {
  if (trace.attempts.length === 0) trace.attempts.push(...(attemptsOf(error) ?? []));
  const sent = trace.attempts.filter((attempt) => attempt.outcome === 'error' && attempt.deployment !== undefined).at(-1);
  if (trace.steps.length === 0 && sent !== undefined) trace.deployment = sent.deployment;
}
