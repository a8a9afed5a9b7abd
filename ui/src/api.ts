/** The dashboard's own JSON API (`/admin/api/…`), with the session's anti-CSRF token on writes. */

let csrfToken: string | null = null;

/** An answer that was not 2xx: the service's message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-groundwork-csrf'] = csrfToken;
  const response = await fetch(`/admin/api/${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(signal === undefined ? {} : { signal }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    window.location.assign('/ui/login');
    throw new ApiError(401, 'Signed out');
  }
  const json = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new ApiError(response.status, json.error?.message ?? `HTTP ${response.status}`);
  return json;
}

/** Who is signed in, and what the service offers. */
export interface Session {
  access: 'bearer' | 'session' | 'open';
  csrfToken: string | null;
  loginRequired: boolean;
  tenants: boolean;
}

export async function loadSession(): Promise<Session> {
  const session = await call<Session>('GET', 'session');
  csrfToken = session.csrfToken;
  return session;
}

/** GETs `path`; `signal` aborts it. */
export const get = <T>(path: string, signal?: AbortSignal): Promise<T> => call<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body: unknown): Promise<T> => call<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown): Promise<T> => call<T>('PATCH', path, body);
export const remove = <T>(path: string): Promise<T> => call<T>('DELETE', path);
