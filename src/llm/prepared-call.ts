import type { z } from 'zod';
import type { CacheMode } from '../cache/response-cache.js';
import type { CallTarget } from './call-pipeline.js';
import type { ChatRequest } from './types.js';

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
  signal: AbortSignal | undefined;
}
