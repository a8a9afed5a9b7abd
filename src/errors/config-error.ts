import { GroundworkError } from './groundwork-error.js';

/** One problem found in the configuration. */
export interface ConfigIssue {
  /** The environment variable at fault, e.g. `DB_POOL_SIZE`. */
  variable: string;
  /** What is wrong, never including a secret's value. */
  message: string;
  /** An example of a valid value. */
  example?: string;
}

/** The configuration is invalid; `issues` lists every problem at once. */
export class ConfigError extends GroundworkError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((issue) => `  - ${formatConfigIssue(issue)}`);
    super('config_invalid', `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.issues = issues;
  }

  /** True for a configuration error from any copy of Groundwork (not for other Groundwork errors). */
  static override isInstance(value: unknown): value is ConfigError {
    return GroundworkError.isInstance(value) && value.code === 'config_invalid' && Array.isArray((value as ConfigError).issues);
  }
}

/** Formats an issue as `VARIABLE: message (e.g. example)`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.variable}: ${issue.message}${issue.example === undefined ? '' : ` (e.g. ${issue.example})`}`;
}
