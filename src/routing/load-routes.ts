import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { RoutesConfig } from './routes-config.js';
import { validateRoutes } from './validate-routes.js';

/** Where {@link loadRoutes} reads secrets referenced by name. */
export interface LoadRoutesOptions {
  /** The environment `apiKeyEnv` names are looked up in (and their `_FILE` variants). @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Reads and validates a routes file (`.json`, or `.yaml` / `.yml` with the `yaml` package, loaded
 * only then). Throws {@link ConfigError} naming every problem at once, each with the file and the
 * field's path (`routes.yaml: groups.chat-fast.deployments[1].rpm`). Secrets are referenced by
 * environment variable (`apiKeyEnv`) or file (`apiKeyFile`); a key written in the file is refused.
 */
export async function loadRoutes(file: string, options: LoadRoutesOptions = {}): Promise<RoutesConfig> {
  const path = resolve(file);
  const issue = (message: string): ConfigError => new ConfigError([{ variable: `GROUNDWORK_ROUTES (${file})`, message }]);
  const extension = extname(path).toLowerCase();
  if (extension !== '.json' && extension !== '.yaml' && extension !== '.yml') {
    throw issue('must name a .json, .yaml or .yml file');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw issue(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let raw: unknown;
  try {
    if (extension === '.json') raw = JSON.parse(text);
    else {
      const { parse } = await import('yaml');
      raw = parse(text);
    }
  } catch (error) {
    throw issue(`is not valid ${extension === '.json' ? 'JSON' : 'YAML'} (${firstLine((error as Error).message)})`);
  }
  const issues: ConfigIssue[] = [];
  const routes = await validateRoutes(raw, { file, env: options.env ?? process.env, issues });
  if (routes === undefined || issues.length > 0) throw new ConfigError(issues);
  return routes;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
