import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GroundworkError } from '../errors/groundwork-error.js';

/**
 * Creates `path` and its missing parents, one level at a time, for `what` (named in the error).
 * Not `mkdirSync(…, { recursive: true })`: on some file systems (`/proc`) Node's recursive mkdir
 * retries forever at 100% CPU. Throws one clear error naming the path and the reason.
 */
export function makeDirectory(path: string, what: string): void {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    const kind = kindOf(current);
    if (kind === 'directory') break;
    if (kind === 'other') throw directoryError(what, current, 'it exists and is not a directory');
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const directory of missing) {
    try {
      mkdirSync(directory);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'EEXIST' && kindOf(directory) === 'directory') continue;
      throw directoryError(what, directory, reasonOf(code, error), error);
    }
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

function reasonOf(code: string | undefined, error: unknown): string {
  switch (code) {
    case 'ENOENT':
      return 'its parent cannot hold directories';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'permission denied';
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file is in the way';
    default:
      return (error as Error).message;
  }
}

function directoryError(what: string, path: string, reason: string, cause?: unknown): GroundworkError {
  return new GroundworkError('directory_unavailable', `Cannot create the directory ${path} for ${what}: ${reason}.`, {
    ...(cause === undefined ? {} : { cause }),
  });
}
