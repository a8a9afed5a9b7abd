import type { z } from 'zod';
import type { CacheMode } from '../cache/response-cache.js';
import type { CallTarget } from './call-pipeline.js';
import type { CallSignal } from './call-signal.js';
import type { ToolSet } from './tools/tool.js';
import type { TurnGate } from './turn-gate.js';
import type { ChatRequest } from './types.js';
import type { UsageAttribution, UsageRecord } from './usage-record.js';

/** A validated call, ready to run: where it may go, what it asks, how the answer is checked and cached. */
export interface PreparedCall {
  /** The primary target first, then the fallbacks. */
  targets: CallTarget[];
  /** The request for the primary target; each target gets it with its own model. */
  request: ChatRequest;
  /** Validates a structured answer. */
  schema: z.ZodType | undefined;
  promptName: string | undefined;
  promptVersion: string | undefined;
  cacheMode: CacheMode;
  cacheKey: string;
  /** Repair requests allowed after an invalid structured answer. */
  repairs: number;
  /** The caller's signal; once the call runs, read {@link signalOf} instead, which the client's drain aborts too. */
  signal: AbortSignal | undefined;
  /** The running call's cancellation, whose `signal` is made only when read; set when the call starts. */
  cancellation?: CallSignal | undefined;
  /** Tools the tool loop may run; absent: tool calls come back to the caller. */
  tools?: ToolSet | undefined;
  /** Most model turns a tool loop may take. */
  maxSteps: number;
  /** When the whole call (every step of a tool loop) must be over, on the engine's clock. */
  deadlineAt?: number | undefined;
  /** Who the call is billed to, for the ledger. */
  attribution?: UsageAttribution | undefined;
  /** Where this call's ledger rows go instead of the ledger. */
  onUsageRecord?: ((record: UsageRecord) => void) | undefined;
  /** Admits each model turn before it is sent, and settles it when it ends (a tenant's budgets). */
  turnGate?: TurnGate | undefined;
}

/** The signal a call runs under: its cancellation's once it runs (made now if not yet), else the caller's. */
export function signalOf(call: PreparedCall): AbortSignal | undefined {
  return call.cancellation === undefined ? call.signal : call.cancellation.signal;
}
