import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { AppConfig } from './app-config.js';
import type { SecretMap } from './build-app-config.js';
import { type ParsedEnvironment, parseEnvironment } from './parse-environment.js';
import { Secret } from './secret.js';
import { SecretList } from './secret-list.js';
import { SECRET_VARIABLES, VARIABLES } from './variables.js';

/**
 * Secrets a running instance reads only when it opens its clients (the database pool, the replica
 * pools, the Redis client): a new value takes effect at the next start, so a reload leaves them as
 * they are and reports them apart (see {@link ConfigSource.secretsAwaitingRestart}).
 */
const RESTART_SECRETS: ReadonlySet<string> = new Set(['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'REDIS_URL']);

/** Where configuration comes from. All fields optional: the defaults read the real process. */
export interface ConfigSourceOptions {
  /** The environment to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** A `.env` file to read under the environment (the real environment wins); `false` for none. @default '.env' in the working directory */
  envFile?: string | false;
  /** An Azure AD token provider is given in code, so `AZURE_OPENAI_API_KEY` is not required. */
  azureTokenProvider?: boolean;
  /** Whether output goes to a terminal (picks the log format under `LOG_FORMAT=auto`). @default process.stdout.isTTY */
  isTty?: boolean;
}

/** The outcome of {@link validateEnvironment}: every problem at once. */
export interface EnvironmentStatus {
  isValid: boolean;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/**
 * Reads, validates and caches one instance's configuration, and re-reads `*_FILE` secrets on
 * demand. Secrets keep their identity across reloads, so clients holding them see new values.
 */
export class ConfigSource {
  readonly #options: ConfigSourceOptions;
  readonly #secrets: SecretMap = new Map();
  #awaitingRestart: string[] = [];
  #parsed: ParsedEnvironment | undefined;
  /** The merged environment last read (by a parse or a reload of the secrets), so {@link ConfigSource.variables} reads no file again. */
  #environment: Readonly<Record<string, string | undefined>> | undefined;

  constructor(options: ConfigSourceOptions = {}) {
    this.#options = options;
  }

  /** The merged raw environment: `.env` first, then the real environment over it, then `*_FILE` secrets. */
  #readEnvironment(): { env: Record<string, string | undefined>; errors: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const real = this.#options.env ?? process.env;
    const merged: Record<string, string | undefined> = {};
    const envFile = this.#options.envFile ?? '.env';
    if (envFile !== false) {
      const path = resolve(envFile);
      if (existsSync(path)) {
        try {
          const text = readFileSync(path, 'utf8');
          const parsed = parseEnv(text);
          // In the file's order: the parser gives its names in an order of its own.
          const swallowing = Object.keys(parsed)
            .filter((name) => name.includes('\n'))
            .sort((a, b) => text.indexOf(a) - text.indexOf(b));
          for (const name of swallowing) {
            delete parsed[name];
            errors.push({ variable: '.env', message: swallowedLine(text, name) });
          }
          Object.assign(merged, parsed);
        } catch (error) {
          errors.push({ variable: '.env', message: `could not be read (${(error as Error).message})` });
        }
      }
    }
    for (const [name, value] of Object.entries(real)) if (value !== undefined) merged[name] = value;
    for (const name of SECRET_VARIABLES) {
      const fileVariable = `${name}_FILE`;
      const filePath = merged[fileVariable];
      if (filePath === undefined || filePath.trim() === '') continue;
      // A secret and its file from one place are one too many; from two, the real environment wins over `.env`.
      const fileFromEnvironment = real[fileVariable] !== undefined;
      const valueFromEnvironment = real[name] !== undefined;
      if (merged[name] !== undefined && fileFromEnvironment === valueFromEnvironment) {
        errors.push({
          variable: fileVariable,
          message: `is set together with ${name}${fileFromEnvironment ? '' : ' in .env'}; set only one`,
          example: `/run/secrets/${name.toLowerCase()}`,
        });
        continue;
      }
      if (valueFromEnvironment) continue;
      try {
        merged[name] = readFileSync(filePath.trim(), 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        errors.push({
          variable: `${name}_FILE`,
          message: `names a file that cannot be read (${reason})`,
          example: `/run/secrets/${name.toLowerCase()}`,
        });
      }
    }
    return { env: merged, errors };
  }

  #parse(): ParsedEnvironment {
    const { env, errors } = this.#readEnvironment();
    this.#environment = env;
    const parsed = parseEnvironment(
      env,
      { azureTokenProvider: this.#options.azureTokenProvider ?? false, isTty: this.#options.isTty ?? process.stdout.isTTY === true },
      this.#secrets,
    );
    if (errors.length === 0) return parsed;
    return { config: undefined, errors: [...errors, ...parsed.errors], warnings: parsed.warnings };
  }

  /**
   * The merged environment (`.env`, then the real environment, then `*_FILE` secrets), for
   * settings read beside the schema, such as the variables a routes file names for its keys:
   * the one the configuration was read from (files are read again only by
   * {@link ConfigSource.reloadSecrets}), or read now when nothing has been.
   * @internal
   */
  variables(): Readonly<Record<string, string | undefined>> {
    this.#environment ??= this.#readEnvironment().env;
    return this.#environment;
  }

  /** Every problem with the configuration, without throwing. */
  validate(): EnvironmentStatus {
    const parsed = this.#parsed ?? this.#parse();
    if (parsed.config !== undefined) this.#parsed = parsed;
    return { isValid: parsed.errors.length === 0, errors: [...parsed.errors], warnings: [...parsed.warnings] };
  }

  /** The validated configuration, loaded once and cached. Throws {@link ConfigError} naming every problem. */
  load(): AppConfig {
    if (this.#parsed?.config !== undefined) return this.#parsed.config;
    const parsed = this.#parse();
    if (parsed.config === undefined) throw new ConfigError(parsed.errors);
    this.#parsed = parsed;
    return parsed.config;
  }

  /**
   * Re-reads secrets (including `*_FILE` files) and updates the existing {@link Secret}s in place,
   * so clients use the new values on their next call. Returns the names of the secrets that changed.
   * Only secrets set at start are reloaded, and a secret now empty keeps its value. `DATABASE_URL`,
   * `DATABASE_REPLICA_URLS` and `REDIS_URL` are not reloaded (their clients keep their connection
   * settings): a change to them is not in the result but in {@link ConfigSource.secretsAwaitingRestart}.
   * Throws {@link ConfigError} when a secret file can no longer be read or a new value is one the
   * configuration refuses at start (an admin key under 16 characters); the old values stay.
   */
  reloadSecrets(): string[] {
    this.load();
    const { env, errors } = this.#readEnvironment();
    // A new value is read, and held to the rules a start holds it to (an admin key of 16 characters or more), as at start.
    const values = new Map<string, unknown>();
    for (const name of SECRET_VARIABLES) {
      const value = env[name];
      if (!this.#secrets.has(name) || value === undefined || value.trim() === '') continue;
      const parsed = VARIABLES[name].field(value.trim());
      if (parsed.ok) values.set(name, parsed.value);
      else errors.push({ variable: name, message: parsed.message });
    }
    if (errors.length > 0) throw new ConfigError(errors);
    this.#environment = env;
    const changed: string[] = [];
    const awaitingRestart: string[] = [];
    for (const [name, value] of values) {
      const secret = this.#secrets.get(name);
      if (secret instanceof SecretList) {
        const items = value as string[];
        if (items.length > 0 && secret.replace(items)) changed.push(name);
      } else if (secret !== undefined) {
        // Compared and kept as the configuration holds it: a list (`DATABASE_REPLICA_URLS`) joined by commas.
        const held = Array.isArray(value) ? value.join(',') : String(value);
        if (RESTART_SECRETS.has(name)) {
          if (held !== secret.reveal()) awaitingRestart.push(name);
        } else if (secret.replace(held)) changed.push(name);
      }
    }
    this.#awaitingRestart = awaitingRestart;
    return changed;
  }

  /**
   * The secrets whose value, as of the last {@link ConfigSource.reloadSecrets}, differs from the
   * one in use and takes effect only at the next start: `DATABASE_URL`, `DATABASE_REPLICA_URLS`, `REDIS_URL`.
   */
  secretsAwaitingRestart(): string[] {
    return [...this.#awaitingRestart];
  }
}

/**
 * What went wrong where `.env` holds a line that is not `NAME=value` (a value pasted alone, `NAME value`):
 * the parser reads it, and the lines down to the next `=`, as one name, so the variable after it is lost.
 * `name` is that merged name; the message gives line numbers, never the line's text, which may be a secret.
 */
function swallowedLine(text: string, name: string): string {
  const lines = name.split('\n');
  const lost = (lines.at(-1) ?? '').replace(/^\s*export\s+/, '').trim();
  const start = text.indexOf(name);
  if (start === -1) return `has a line that is not NAME=value, so ${lost} after it was not read`;
  const first = text.slice(0, start).split('\n').length;
  return `line ${first} is not NAME=value, so ${lost} (line ${first + lines.length - 1}) was not read`;
}

/** Loads and validates configuration from the environment and `.env`. Throws {@link ConfigError}. */
export function loadConfig(options: ConfigSourceOptions = {}): AppConfig {
  return new ConfigSource(options).load();
}

/** Checks the environment and returns every error and warning at once; never throws. */
export function validateEnvironment(options: ConfigSourceOptions = {}): EnvironmentStatus {
  return new ConfigSource(options).validate();
}
