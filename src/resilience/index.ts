export { approximateTokens } from './approximate-tokens.js';
export { backoffDelay } from './backoff.js';
export type { BreakerDecision, BreakerRules, BreakerSnapshot, BreakerStateName, BreakerStore, BreakerTransition } from './breaker-store.js';
export type { CallContext } from './call-context.js';
export { type BreakerVerdict, CircuitBreaker, type CircuitState } from './circuit-breaker.js';
export { ConcurrencyLimiter } from './concurrency-limiter.js';
export { createResiliencePipeline, type ResiliencePipelineDeps } from './create-resilience-pipeline.js';
export {
  CircuitOpenError,
  DeadlineExceededError,
  PipelineClosedError,
  QueueFullError,
  QueueTimeoutError,
  RateLimitExceededError,
  type RateLimitKind,
  RateLimitStoreUnavailableError,
  RetryAfterTooLongError,
} from './errors.js';
export { countTokens, encodingFor, estimateTokens, reserveTokens } from './estimate-tokens.js';
export { MemoryBreakerStore } from './memory-breaker-store.js';
export { MemoryRateLimitStore } from './memory-rate-limit-store.js';
export type { RateLimitRules, RateLimitStore, TakeResult } from './rate-limit-store.js';
export { RateLimiter } from './rate-limiter.js';
export { RedisBreakerStore } from './redis-breaker-store.js';
export { RedisRateLimitStore } from './redis-rate-limit-store.js';
export { attemptsOf, ResiliencePipeline } from './resilience-pipeline.js';
export type { BucketRule } from './token-bucket.js';
