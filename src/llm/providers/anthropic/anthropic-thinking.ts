import type { ThinkingConfigParam } from '@anthropic-ai/sdk/resources/messages';
import type { ReasoningEffort } from '../../types.js';

/** The smallest thinking budget Anthropic accepts. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * `reasoningEffort` as an extended-thinking budget, in tokens. The budget must stay below
 * `max_tokens`, so it is cut to `max_tokens - 1`; `none` turns thinking off.
 *
 * | effort    | budget |
 * | --------- | ------ |
 * | `minimal` | 1024   |
 * | `low`     | 2048   |
 * | `medium`  | 8192   |
 * | `high`    | 16384  |
 * | `xhigh`   | 32768  |
 * | `max`     | 63999  |
 */
export const THINKING_BUDGETS: Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16_384,
  xhigh: 32_768,
  max: 63_999,
};

/** The thinking configuration for `effort` under `maxTokens`; undefined when the budget cannot fit (below the minimum). */
export function thinkingFor(effort: ReasoningEffort, maxTokens: number): ThinkingConfigParam | undefined {
  if (effort === 'none') return { type: 'disabled' };
  const budget = Math.min(THINKING_BUDGETS[effort], maxTokens - 1);
  return budget < MIN_THINKING_BUDGET ? undefined : { type: 'enabled', budget_tokens: budget };
}

/** Whether `effort` turns extended thinking on. */
export function thinks(effort: ReasoningEffort | undefined): effort is Exclude<ReasoningEffort, 'none'> {
  return effort !== undefined && effort !== 'none';
}
