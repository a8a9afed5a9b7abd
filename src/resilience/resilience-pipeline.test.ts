import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResilienceConfig } from '../config/app-config.js';
import { BadRequestError, ProviderServerError, ProviderTimeoutError, RateLimitedError } from '../errors/provider-errors.js';
import type { AttemptInfo, AttemptResult, CallPlan } from '../llm/call-pipeline.js';
import { CallSignal, callSignalPlan } from '../llm/call-signal.js';
import type { TokenUsage } from '../llm/types.js';
import { GroundworkMetrics } from '../observability/metrics.js';
import { createResiliencePipeline } from './create-resilience-pipeline.js';
import { CircuitOpenError, DeadlineExceededError, PipelineClosedError, RetryAfterTooLongError } from './errors.js';
import { answer, hang, logger, serverError, testConfig } from './resilience.test-helpers.js';
import type { ResiliencePipeline } from './resilience-pipeline.js';
import { attemptsOf } from './resilience-pipeline.js';

const primary = { provider: 'openai', model: 'gpt-4o-mini' } as const;
const fallback = { provider: 'anthropic', model: 'claude-3-5-haiku-latest' } as const;
const plan = (extra: Partial<CallPlan> = {}): CallPlan => ({ targets: [primary], estimatedTokens: 100, ...extra });

/** An attempt's end, settled from outside. */
function pending(): { promise: Promise<AttemptResult<string>>; resolve(value: AttemptResult<string>): void; reject(error: unknown): void } {
  let resolve!: (value: AttemptResult<string>) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<AttemptResult<string>>((onValue, onError) => {
    resolve = onValue;
    reject = onError;
  });
  return { promise, resolve, reject };
}

let pipeline: ResiliencePipeline;
const make = (overrides: Partial<ResilienceConfig> = {}, random = () => 0.5): ResiliencePipeline => {
  pipeline = createResiliencePipeline(testConfig(overrides), { logger, random, metrics: new GroundworkMetrics() });
  return pipeline;
};

/** Runs `promise` to its end on fake time; resolves with what it settled to and the fake time it took. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; elapsedMs: number }> {
  const started = Date.now();
  const outcome: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(outcome, { value, done: true }),
    (error: unknown) => Object.assign(outcome, { error, done: true }),
  );
  while (!outcome.done) await vi.advanceTimersToNextTimerAsync();
  return { ...outcome, elapsedMs: Date.now() - started };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(async () => {
  await pipeline.close();
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('resilience pipeline', () => {
  it('answers with the target that answered and one attempt record, leaving no timer behind', async () => {
    make();
    const outcome = await pipeline.execute(plan(), answer('hi'));
    expect(outcome).toMatchObject({ value: 'hi', target: primary, attempts: [{ ...primary, attempt: 1, outcome: 'success' }] });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries a retryable error with backoff between the bounds, at most maxAttempts times', async () => {
    make();
    const times: number[] = [];
    const attempt = vi.fn(async () => {
      times.push(Date.now());
      throw serverError();
    });
    const { error } = await settle(pipeline.execute(plan(), attempt));
    expect(error).toMatchObject({ code: 'provider_server_error' });
    expect(attempt).toHaveBeenCalledTimes(3);
    expect((times[1] as number) - (times[0] as number)).toBe(3000); // 2000 + 0.5 × 2000
    expect((times[2] as number) - (times[1] as number)).toBe(6000); // 4000 + 0.5 × 4000
    expect(attemptsOf(error)?.map((record) => record.outcome)).toEqual(['error', 'error', 'error']);
  });

  it('does not retry an error that is not retryable', async () => {
    make();
    const attempt = vi.fn(async () => {
      throw new BadRequestError('bad', { provider: 'openai', status: 400 });
    });
    const { error, elapsedMs } = await settle(pipeline.execute(plan({ targets: [primary, fallback] }), attempt));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(elapsedMs).toBe(0);
  });

  it('obeys a Retry-After of 30 s exactly', async () => {
    make();
    const times: number[] = [];
    let calls = 0;
    const attempt = async (): Promise<AttemptResult<string>> => {
      times.push(Date.now());
      if (calls++ === 0) throw new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs: 30_000 });
      return { value: 'ok' };
    };
    const { value, elapsedMs } = await settle(pipeline.execute(plan(), attempt));
    expect(value?.value).toBe('ok');
    expect(elapsedMs).toBe(30_000);
    expect(value?.attempts[1]).toMatchObject({ attempt: 2, outcome: 'success', waitedMs: 30_000 });
  });

  it('waits at least LLM_RETRY_MIN_MS after a Retry-After of 0 or a few ms, never retrying in the same instant', async () => {
    make({ retryMinMs: 2000 });
    for (const retryAfterMs of [0, 5]) {
      const times: number[] = [];
      const attempt = async (): Promise<never> => {
        times.push(Date.now());
        throw new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs });
      };
      const { error } = await settle(pipeline.execute(plan(), attempt));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(times).toHaveLength(3);
      expect(times.slice(1).map((time, index) => time - (times[index] as number))).toEqual([2000, 2000]);
    }
  });

  it('fails at once when the provider asks for 3,600 s, saying when it will accept again', async () => {
    make();
    const attempt = vi.fn(async () => {
      throw new RateLimitedError('slow down', { provider: 'openai', status: 429, retryAfterMs: 3_600_000 });
    });
    const { error, elapsedMs } = await settle(pipeline.execute(plan(), attempt));
    expect(error).toBeInstanceOf(RetryAfterTooLongError);
    expect(error).toMatchObject({ retryAfterMs: 3_600_000, retryAt: Date.now() + 3_600_000 });
    expect((error as Error).message).toContain(new Date(Date.now() + 3_600_000).toISOString());
    expect(elapsedMs).toBe(0);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('never exceeds the deadline, whatever the failures and waits', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      let state = seed;
      const random = (): number => {
        state = (state * 48_271) % 2_147_483_647;
        return state / 2_147_483_647;
      };
      make({ deadlineMs: 20_000, timeoutMs: 7000, maxAttempts: 5, retryMinMs: 1000, retryMaxMs: 8000 }, random);
      const attempt = async (info: AttemptInfo): Promise<AttemptResult<string>> => {
        const roll = random();
        if (roll < 0.3) return hang(info);
        if (roll < 0.6) throw new RateLimitedError('wait', { provider: info.target.provider, retryAfterMs: Math.round(random() * 15_000) });
        throw serverError(info.target.provider);
      };
      const { error, elapsedMs } = await settle(pipeline.execute(plan({ targets: [primary, fallback] }), attempt));
      expect(error).toBeDefined();
      expect(elapsedMs).toBeLessThanOrEqual(20_000);
      await pipeline.close();
    }
  });

  it('cuts an attempt short at the deadline with DeadlineExceededError', async () => {
    make({ deadlineMs: 5000, timeoutMs: 60_000 });
    let signal: AbortSignal | undefined;
    const { error, elapsedMs } = await settle(
      pipeline.execute(plan(), (info) => {
        signal = info.signal;
        return hang(info);
      }),
    );
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(elapsedMs).toBe(5000);
    expect(signal?.aborted).toBe(true);
  });

  it('times an attempt out, aborting its signal, and retries', async () => {
    make({ timeoutMs: 1000, maxAttempts: 2 });
    const signals: AbortSignal[] = [];
    const { error } = await settle(
      pipeline.execute(plan(), (info) => {
        signals.push(info.signal);
        return hang(info);
      }),
    );
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
  });

  it('falls back in order after a retryable failure and lists every attempt', async () => {
    make({ maxAttempts: 2 });
    const attempt = async (info: AttemptInfo): Promise<AttemptResult<string>> => {
      if (info.target.provider === 'openai') throw serverError();
      return { value: `from ${info.target.provider}` };
    };
    const { value } = await settle(pipeline.execute(plan({ targets: [primary, fallback] }), attempt));
    expect(value?.value).toBe('from anthropic');
    expect(value?.target).toEqual(fallback);
    expect(value?.attempts.map((record) => [record.provider, record.attempt, record.outcome])).toEqual([
      ['openai', 1, 'error'],
      ['openai', 2, 'error'],
      ['anthropic', 1, 'success'],
    ]);
  });

  it('opens the circuit after 5 consecutive provider failures; then fails fast and nothing reaches the provider', async () => {
    make({ maxAttempts: 1 });
    const attempt = vi.fn(async () => {
      throw serverError();
    });
    for (let index = 0; index < 5; index++) await settle(pipeline.execute(plan(), attempt));
    expect(attempt).toHaveBeenCalledTimes(5);
    const { error } = await settle(pipeline.execute(plan(), attempt));
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', retryAfterMs: 60_000, retryAt: Date.now() + 60_000 });
    expect(attempt).toHaveBeenCalledTimes(5);
    expect(attemptsOf(error)).toEqual([expect.objectContaining({ outcome: 'skipped', errorCode: 'circuit_open' })]);
    expect(await pipeline.getState('openai', 'gpt-4o-mini')).toMatchObject({ state: 'open', consecutiveFailures: 5 });
  });

  it('counts only consecutive failures: calls ending failure, success, failure, success, failure leave a threshold-3 circuit closed', async () => {
    make({ maxAttempts: 1, circuitFailureThreshold: 3 });
    // Five calls admitted together (no failure counted yet), ending one after another.
    const ends = Array.from({ length: 5 }, () => pending());
    let next = 0;
    const calls = ends.map(() => pipeline.execute(plan(), () => (ends[next++] as ReturnType<typeof pending>).promise).catch(() => {}));
    await vi.advanceTimersByTimeAsync(0);
    expect(next).toBe(5);
    for (const [index, end] of ends.entries()) {
      if (index % 2 === 0) end.reject(serverError());
      else end.resolve({ value: 'ok' });
      await vi.advanceTimersByTimeAsync(0);
    }
    await Promise.all(calls);
    expect(await pipeline.getState('openai', 'gpt-4o-mini')).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
  });

  it('fails with the provider’s error, naming the refusal, when the circuit opens during the call and refuses its retry', async () => {
    make({ circuitFailureThreshold: 1 });
    const attempt = vi.fn(async () => {
      throw serverError();
    });
    const { error } = await settle(pipeline.execute(plan(), attempt));
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(error).toBeInstanceOf(ProviderServerError);
    expect(error).toMatchObject({ code: 'provider_server_error', retryable: true });
    expect((error as Error).message).toContain('service unavailable');
    expect((error as Error).message).toContain('Not retried: Circuit for openai/gpt-4o-mini is open');
    expect(attemptsOf(error)?.map((record) => `${record.outcome}:${record.errorCode}`)).toEqual([
      'error:provider_server_error',
      'skipped:circuit_open',
    ]);
    // The provider named no wait: the circuit's is the one a client should keep (serve's Retry-After).
    const { retryAfterMs } = error as ProviderServerError;
    expect(retryAfterMs).toBeGreaterThan(50_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('keeps the provider’s own Retry-After when the circuit refuses the retry', async () => {
    make({ circuitFailureThreshold: 1 });
    const { error } = await settle(pipeline.execute(plan(), async () => Promise.reject(serverError('openai', 5_000))));
    expect(error).toBeInstanceOf(ProviderServerError);
    expect(error).toMatchObject({ retryAfterMs: 5_000 });
  });

  it('fails with the provider’s error, naming the refusal, when the rate limit refuses a retry', async () => {
    make({ requestsPerMinute: 1, rateLimitMaxWaitMs: 0 });
    const { error } = await settle(pipeline.execute(plan(), async () => Promise.reject(serverError())));
    expect(error).toBeInstanceOf(ProviderServerError);
    expect((error as Error).message).toContain('Not retried: Rate limit of 1 requests per minute');
    expect(attemptsOf(error)?.map((record) => record.outcome)).toEqual(['error', 'skipped']);
  });

  it('still fails with the refusal when no request of the call was sent', async () => {
    make({ maxAttempts: 1, circuitFailureThreshold: 1 });
    await settle(pipeline.execute(plan(), async () => Promise.reject(serverError())));
    const { error } = await settle(pipeline.execute(plan(), answer('never')));
    expect(error).toBeInstanceOf(CircuitOpenError);
  });

  it('keeps models outside the known set under one breaker, leaving a known model its own', async () => {
    const metrics = new GroundworkMetrics();
    metrics.models.restrictTo([primary.model]);
    pipeline = createResiliencePipeline(testConfig({ maxAttempts: 1, circuitFailureThreshold: 2 }), { logger, metrics });
    const sent: string[] = [];
    const failing = async (info: AttemptInfo): Promise<never> => {
      sent.push(info.target.model);
      throw serverError();
    };
    for (let index = 0; index < 20; index++) {
      await settle(pipeline.execute(plan({ targets: [{ provider: 'openai', model: `rand-model-${index}` }] }), failing));
    }
    // Each attempt went to the model it named, until the shared circuit opened.
    expect(sent).toEqual(['rand-model-0', 'rand-model-1']);
    const states = await pipeline.breakerStates();
    expect(states.map((state) => `${state.model}:${state.state}`)).toEqual(['other:open']);
    // The configured model is not behind the circuit the unknown names opened.
    const { value } = await settle(pipeline.execute(plan(), answer('hi')));
    expect(value?.value).toBe('hi');
    expect((await pipeline.breakerStates()).map((state) => `${state.model}:${state.state}`).sort()).toEqual([
      'gpt-4o-mini:closed',
      'other:open',
    ]);
  });

  it('does not count bad requests against the provider', async () => {
    make({ maxAttempts: 1 });
    const attempt = async (): Promise<never> => {
      throw new BadRequestError('bad', { provider: 'openai', status: 400 });
    };
    for (let index = 0; index < 10; index++) await settle(pipeline.execute(plan(), attempt));
    expect((await pipeline.getState('openai', 'gpt-4o-mini')).state).toBe('closed');
  });

  it('skips an open circuit to the fallback', async () => {
    make({ maxAttempts: 1, circuitFailureThreshold: 1 });
    await settle(pipeline.execute(plan(), async () => Promise.reject(serverError())));
    const { value } = await settle(pipeline.execute(plan({ targets: [primary, fallback] }), answer('fallback')));
    expect(value?.attempts).toEqual([
      expect.objectContaining({ provider: 'openai', outcome: 'skipped', errorCode: 'circuit_open' }),
      expect.objectContaining({ provider: 'anthropic', outcome: 'success' }),
    ]);
  });

  it('50 concurrent callers against a half-open circuit: exactly one reaches the provider; its success closes it', async () => {
    make({ maxAttempts: 1, circuitFailureThreshold: 1, circuitResetMs: 60_000 });
    await settle(pipeline.execute(plan(), async () => Promise.reject(serverError())));
    await vi.advanceTimersByTimeAsync(60_000);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const attempt = vi.fn(async () => {
      await gate;
      return { value: 'ok' };
    });
    const calls = Array.from({ length: 50 }, () =>
      pipeline.execute(plan(), attempt).then(
        () => 'ok',
        (error: unknown) => error,
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect((await pipeline.getState('openai', 'gpt-4o-mini')).state).toBe('half_open');
    release();
    const results = await Promise.all(calls);
    expect(results.filter((result) => result === 'ok')).toHaveLength(1);
    expect(results.filter((result) => result instanceof CircuitOpenError)).toHaveLength(49);
    expect((await pipeline.getState('openai', 'gpt-4o-mini')).state).toBe('closed');
    expect(await pipeline.breakerStates()).toEqual([expect.objectContaining({ provider: 'openai', state: 'closed' })]);
  });

  it('holds a stream’s concurrency slot until its usage settles', async () => {
    make({ maxConcurrent: 1 });
    let finish!: (usage: TokenUsage) => void;
    const usage = new Promise<TokenUsage | undefined>((resolve) => {
      finish = resolve;
    });
    await pipeline.execute(plan(), async () => ({ value: 'stream', usage }));
    const second = vi.fn(answer('second'));
    const pending = pipeline.execute(plan(), second);
    await vi.advanceTimersByTimeAsync(0);
    expect(second).not.toHaveBeenCalled();
    finish({ promptTokens: 1, completionTokens: 1, totalTokens: 2 });
    await expect(pending).resolves.toMatchObject({ value: 'second' });
  });

  it('reconciles the token reservation with the real usage', async () => {
    make({ tokensPerMinute: 1000, maxAttempts: 1, rateLimitMaxWaitMs: 0 });
    const used = { promptTokens: 100, completionTokens: 100, totalTokens: 200 };
    await pipeline.execute(plan({ estimatedTokens: 900 }), async () => ({ value: 1, usage: used }));
    // 900 reserved, 200 used: 800 are left, so a call estimating 700 goes through at once.
    await expect(pipeline.execute(plan({ estimatedTokens: 700 }), async () => ({ value: 2, usage: used }))).resolves.toMatchObject({
      value: 2,
    });
    await expect(pipeline.execute(plan({ estimatedTokens: 700 }), answer(3))).rejects.toMatchObject({
      code: 'rate_limit_exceeded',
      limit: 'tokens',
    });
  });

  it('rejects at once when the caller aborts, and after close()', async () => {
    make();
    const controller = new AbortController();
    const pending = pipeline.execute(plan({ signal: controller.signal }), hang);
    controller.abort(new Error('user left'));
    await expect(pending).rejects.toThrow('user left');
    await pipeline.close();
    await expect(pipeline.execute(plan(), answer(1))).rejects.toBeInstanceOf(PipelineClosedError);
  });

  it('sends nothing when closed while the call is being admitted (its circuit and permit being read), and hands its permit back', async () => {
    make({ tokensPerMinute: 1000 });
    const attempt = vi.fn(answer(1));
    const call = pipeline.execute(plan(), attempt);
    await pipeline.close();
    await expect(call).rejects.toBeInstanceOf(PipelineClosedError);
    expect(attempt).not.toHaveBeenCalled();
    expect(pipeline.concurrency()).toEqual([expect.objectContaining({ provider: 'openai', active: 0 })]);
    expect((await pipeline.rateLimitLevels('openai', 'gpt-4o-mini'))?.tokens?.level).toBe(1000);
  });

  it('refuses a call aborted before it runs with the call’s reason, though its shared signal is live, and takes no permit', async () => {
    make({ requestsPerMinute: 1 });
    const call = new CallSignal([], undefined, new AbortController().signal);
    call.abort(new Error('abandoned'));
    const attempt = vi.fn(answer(1));
    await expect(pipeline.execute(callSignalPlan([primary], 100, call), attempt)).rejects.toThrow('abandoned');
    expect(attempt).not.toHaveBeenCalled();
    // The one permit of the minute is still there for the next call.
    await expect(pipeline.execute(plan(), answer(2))).resolves.toMatchObject({ value: 2 });
  });

  it('close() ends backoff sleeps and waits and leaves no timer', async () => {
    make({ maxConcurrent: 1 });
    const sleeping = pipeline.execute(plan(), async () => Promise.reject(serverError())).catch((error: unknown) => error);
    const holding = pipeline.execute(plan({ targets: [fallback] }), hang).catch((error: unknown) => error);
    const queued = pipeline.execute(plan({ targets: [fallback] }), answer(1)).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await pipeline.close();
    expect(await sleeping).toBeInstanceOf(PipelineClosedError);
    expect(await queued).toBeInstanceOf(PipelineClosedError);
    // The attempt in flight is not cut by close(); it times out, and its retry is refused.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await holding).toBeInstanceOf(PipelineClosedError);
  });
});
