import { statSync } from 'node:fs';
import type { AppConfig } from '../../config/app-config.js';
import { ConfigSource } from '../../config/load-config.js';
import { ConfigError } from '../../errors/config-error.js';
import { withTimeLimit } from '../../internal/time-limit.js';
import { scrubSecrets } from '../../observability/redact.js';
import { type CheckOutcome, type CommandIo, formatCheckLine } from '../output.js';
import { type DoctorDependencies, isEmbeddedDefaults, openEmbeddedChecks } from './doctor-embedded.js';

/** One line of the doctor's report. */
export interface DoctorCheck {
  name: string;
  outcome: CheckOutcome;
  summary: string;
  /** What to do about a failure or warning. */
  fix?: string;
  /** A failed required check makes the doctor exit 1. */
  required: boolean;
  latencyMs?: number;
}

/** The doctor's whole report, as printed by `--json`. */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

/** Runs every check: configuration first, then each dependency it describes. */
export async function runDoctor(io: CommandIo): Promise<DoctorReport> {
  const source = new ConfigSource({ env: io.env, isTty: io.isTty });
  const status = source.validate();
  const checks: DoctorCheck[] = [];
  if (!status.isValid) {
    checks.push({
      name: 'configuration',
      outcome: 'fail',
      required: true,
      summary: `${status.errors.length} invalid variable${status.errors.length === 1 ? '' : 's'}`,
    });
    for (const error of status.errors) {
      checks.push({
        name: error.variable,
        outcome: 'fail',
        required: true,
        summary: error.message,
        ...(error.example === undefined ? {} : { fix: `e.g. ${error.variable}=${error.example}` }),
      });
    }
  } else {
    checks.push({ name: 'configuration', outcome: 'pass', required: true, summary: 'valid' });
  }
  for (const warning of status.warnings) {
    checks.push({
      name: warning.variable,
      outcome: 'warn',
      required: false,
      summary: warning.message,
      ...(warning.example === undefined ? {} : { fix: `e.g. ${warning.example}` }),
    });
  }
  if (status.isValid) checks.push(...fileChecks(source.load()), ...(await dependencyChecks(source)));
  return { ok: !checks.some((check) => check.required && check.outcome === 'fail'), checks };
}

/**
 * The files the configuration names and only a later step opens, each checked where it is read:
 * `DB_MIGRATIONS_DIR`, a folder `groundwork migrate` and `serve` read and fail on when it is not one,
 * and, for PostgreSQL, `DB_SSL_CA`, a file read as the pool opens (whose failure names only the path).
 * One line each, only when wrong.
 */
function fileChecks(config: AppConfig): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const problem = (name: string, path: string | undefined, folder: boolean): void => {
    if (path === undefined) return;
    let summary: string | undefined;
    const kind = folder ? 'folder' : 'file';
    try {
      const isFolder = statSync(path).isDirectory();
      if (isFolder !== folder) summary = folder ? 'names a file, not a folder' : 'names a folder, not a file';
    } catch (error) {
      summary = `names a ${kind} that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`;
    }
    if (summary === undefined) return;
    const fix = folder
      ? 'e.g. DB_MIGRATIONS_DIR=./migrations, a folder of migration modules'
      : `e.g. ${name}=/etc/ssl/db-ca.pem, a PEM file`;
    checks.push({ name, outcome: 'fail', required: true, summary, fix });
  };
  problem('DB_MIGRATIONS_DIR', config.database.migrationsDir, true);
  if (config.database.dialect === 'postgres') problem('DB_SSL_CA', config.database.sslCaPath, false);
  return checks;
}

/** Longest the doctor waits to open the configured dependencies, and then for their checks, in ms. */
const OPEN_LIMIT_MS = 15_000;
const CHECK_LIMIT_MS = 15_000;

/** One line per dependency; a dependency that cannot be opened, or a check that hangs, fails within its time limit. */
async function dependencyChecks(source: ConfigSource): Promise<DoctorCheck[]> {
  const opening = openDependencies(source);
  let infrastructure: DoctorDependencies;
  try {
    infrastructure = await withTimeLimit(opening, OPEN_LIMIT_MS, 'opening the configured dependencies');
  } catch (error) {
    // Opened too late is still opened: close it when it arrives.
    opening.then((late) => late.close()).catch(() => undefined);
    // A bad routes file: one line per problem, as for the environment.
    if (ConfigError.isInstance(error)) {
      return error.issues.map((issue) => ({
        name: issue.variable,
        outcome: 'fail' as const,
        required: true,
        summary: issue.message,
        ...(issue.example === undefined ? {} : { fix: `e.g. ${issue.example}` }),
      }));
    }
    return [{ name: 'dependencies', outcome: 'fail', required: true, summary: scrubSecrets((error as Error).message) }];
  }
  const checks: DoctorCheck[] = [];
  try {
    const health = await withTimeLimit(infrastructure.health({ deep: true }), CHECK_LIMIT_MS, 'the dependency checks');
    for (const dependency of health.dependencies) {
      if (dependency.name === 'config') continue;
      const outcome: CheckOutcome =
        dependency.status === 'ok' ? 'pass' : dependency.status === 'degraded' || !dependency.required ? 'warn' : 'fail';
      checks.push({
        name: dependency.name,
        outcome: dependency.info?.configured === false ? 'skip' : outcome,
        required: dependency.required,
        summary: `${dependency.detail ?? (dependency.status === 'ok' ? 'reachable' : dependency.status)}${dependency.status === 'ok' && dependency.info?.configured !== false ? ` (${describeInfo(dependency.info)}${dependency.latencyMs.toFixed(1)} ms)` : ''}`,
        latencyMs: dependency.latencyMs,
        ...(typeof dependency.info?.fix === 'string' ? { fix: dependency.info.fix } : {}),
      });
    }
  } catch (error) {
    checks.push({ name: 'dependencies', outcome: 'fail', required: true, summary: scrubSecrets((error as Error).message) });
  } finally {
    await withTimeLimit(infrastructure.close(), CHECK_LIMIT_MS, 'closing the dependencies').catch(() => undefined);
  }
  return checks;
}

/** The embedded defaults on their driver alone; anything else through the infrastructure it configures. */
async function openDependencies(source: ConfigSource): Promise<DoctorDependencies> {
  const config = source.load();
  if (isEmbeddedDefaults(config)) return openEmbeddedChecks(config);
  const [{ createInfrastructure }, { silentLogger }] = await Promise.all([
    import('../../create-infrastructure.js'),
    import('../../observability/logger.js'),
  ]);
  return createInfrastructure({ configSource: source, logger: silentLogger() });
}

/** `groundwork doctor [--json]`: a readable report, exit 1 when anything required fails. */
export async function doctorCommand(args: { json: boolean }, io: CommandIo): Promise<number> {
  if (!args.json) io.err('Checking configuration and dependencies…');
  const report = await runDoctor(io);
  if (args.json) {
    io.out(JSON.stringify(report, null, 2));
  } else {
    io.out('Groundwork doctor');
    for (const check of report.checks) io.out(formatCheckLine(check.outcome, check.name, check.summary, check.fix, io.isTty));
    // The configuration line sums up the variables' lines below it; count each problem once.
    const failed = report.checks.filter(
      (check) =>
        check.outcome === 'fail' && !(check.name === 'configuration' && report.checks.length > 1 && check.summary.includes('invalid')),
    ).length;
    const warned = report.checks.filter((check) => check.outcome === 'warn').length;
    io.out(`\n${report.ok ? 'OK' : 'FAILED'}: ${failed} failed, ${warned} warning${warned === 1 ? '' : 's'}`);
  }
  return report.ok ? 0 : 1;
}

function describeInfo(info: Record<string, unknown> | undefined): string {
  const parts: string[] = [];
  if (typeof info?.dialect === 'string') parts.push(info.dialect);
  if (typeof info?.breaker === 'string') parts.push(`breaker ${info.breaker}`);
  return parts.length === 0 ? '' : `${parts.join(', ')}, `;
}
