// The dashboard's one way to the server: same-origin fetch with the session cookie, the CSRF header on every
// state-changing request, and the server's `{ error: { code, message } }` turned into an ApiError to show.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The header cookie-authenticated POST/PUT/DELETE requests must carry; its value comes from /v1/me. */
export const CSRF_HEADER = 'x-writ-csrf';
let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** `path?key=value…`, leaving out empty values so a blank filter means "any". */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers[CSRF_HEADER] = csrfToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', `the Writ server did not answer (${(error as Error).message})`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? 'http_' + response.status, error?.message ?? (text.slice(0, 300) || response.statusText));
  }
  return json as T;
}

/** What the server says about the signed-in person (GET /v1/me). */
export interface Me {
  name: string;
  role: 'admin' | 'auditor';
  via: 'oidc' | 'token' | 'bearer';
  /** Sent back in x-writ-csrf on state-changing requests; empty for bearer callers. */
  csrf: string;
  expires_at: string | null;
}

/** A page of rows as every list endpoint returns it. */
export interface Page<T> {
  items: T[];
  total: number;
}
