import { scrubSecrets } from './redact.js';

/** The state of one dependency, or of the whole process. */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/** What one check found. */
export interface DependencyHealth {
  /** e.g. `database`, `llm:openai`, `redis`. */
  name: string;
  status: HealthStatus;
  /** How long the check took, in milliseconds. */
  latencyMs: number;
  /** Whether the process cannot serve without it (its `down` makes the whole `down`). */
  required: boolean;
  /** A short, secret-free explanation, and what to do about a failure. */
  detail?: string;
  /** Extra facts (breaker state, pool counts). */
  info?: Record<string, unknown>;
}

/** The outcome of `health()`. */
export interface HealthReport {
  status: HealthStatus;
  checkedAt: string;
  dependencies: DependencyHealth[];
}

/** How thorough a health check is. */
export interface HealthOptions {
  /** Also make a real request to each LLM provider (doctor); otherwise only local state (readiness probes). */
  deep?: boolean;
  /** Longest a single check may take, in ms. @default 5000 */
  timeoutMs?: number;
}

/** A check a capability registers with the facade. */
export interface HealthCheck {
  readonly name: string;
  readonly required: boolean;
  /** Resolves with the dependency's state; may throw, which counts as `down`. */
  check(
    signal: AbortSignal,
    options: HealthOptions,
  ): Promise<Omit<DependencyHealth, 'name' | 'required' | 'latencyMs'> & { latencyMs?: number }>;
}

/**
 * Runs every check at once, each bounded by `timeoutMs`, and combines them: any required `down` →
 * `down`; any other problem → `degraded`. A check that throws is `down` with its error's message as
 * the detail; every detail has its secrets scrubbed (credentials in URLs, bearer tokens, API keys).
 */
export async function runHealthChecks(checks: readonly HealthCheck[], options: HealthOptions = {}): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const dependencies = await Promise.all(
    checks.map(async (check): Promise<DependencyHealth> => {
      const started = performance.now();
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const result = await Promise.race([
          check.check(signal, options),
          new Promise<never>((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true }),
          ),
        ]);
        const latencyMs = result.latencyMs ?? round(performance.now() - started);
        // A check may quote what it connected to: its detail reaches probes, the dashboard and doctor.
        const detail = result.detail === undefined ? {} : { detail: scrubSecrets(result.detail) };
        return { name: check.name, required: check.required, ...result, ...detail, latencyMs };
      } catch (error) {
        return {
          name: check.name,
          required: check.required,
          status: 'down',
          latencyMs: round(performance.now() - started),
          detail: scrubSecrets(error instanceof Error ? error.message : String(error)),
        };
      }
    }),
  );
  let status: HealthStatus = 'ok';
  for (const dependency of dependencies) {
    if (dependency.status === 'down' && dependency.required) status = 'down';
    else if (dependency.status !== 'ok' && status === 'ok') status = 'degraded';
  }
  return { status, checkedAt: new Date().toISOString(), dependencies };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
