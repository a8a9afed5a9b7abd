import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One built file of the page, held in memory with its gzip and ETag. */
export interface UiAsset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Where `npm run build` puts the page: `dist/ui/`, beside the compiled server (`dist/dashboard/`),
 * or, when the server runs from source, the same folder of the package.
 */
export function defaultUiDirectory(): string | undefined {
  const candidates = [fileURLToPath(new URL('../ui/', import.meta.url)), fileURLToPath(new URL('../../dist/ui/', import.meta.url))];
  return candidates.find((directory) => existsSync(join(directory, 'index.html')));
}

/** Reads every file of the built page once (it is small), keyed by file name. */
export function loadUiAssets(directory: string): Map<string, UiAsset> {
  const assets = new Map<string, UiAsset>();
  for (const name of readdirSync(directory)) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    const body = readFileSync(join(directory, name));
    assets.set(name, {
      body,
      gzip: gzipSync(body, { level: 9 }),
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return assets;
}
