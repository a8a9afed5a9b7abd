/** `path` as routes match it: a trailing slash ignored (`/` itself kept). */
export function routePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * The decoded `{parameter}` of a parameter route (its `path`: `/v1/models/{model}`,
 * `/v1/responses/{id}/cancel`) in `path` (as {@link routePath} gives it), or undefined when the
 * route does not match: the parameter is never empty, is one segment before a fixed rest, and
 * decodes.
 */
export function parameterOf(route: { readonly path: string }, path: string): string | undefined {
  const open = route.path.lastIndexOf('/{');
  const close = route.path.indexOf('}', open);
  if (open === -1 || close === -1) return undefined;
  const prefix = route.path.slice(0, open + 1);
  const suffix = route.path.slice(close + 1);
  if (!path.startsWith(prefix) || !path.endsWith(suffix) || path.length <= prefix.length + suffix.length) return undefined;
  const raw = path.slice(prefix.length, path.length - suffix.length);
  // With a fixed rest, the parameter is one segment.
  if (suffix !== '' && raw.includes('/')) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
