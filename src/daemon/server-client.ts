// The daemon's HTTP client for `writ server`: every request is signed with the device key over the exact
// bytes sent (docs/protocol.md, "Signed requests"), so the server needs no bearer token from the device.
import type { Signer } from '../core/dsse.js';
import { signRequest } from '../core/request-signature.js';

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * A request that failed: `status` is the HTTP status, or 0 when no answer arrived (`code` is then
 * `unreachable` or `timeout`); `code` is the server's error code otherwise.
 */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServerError';
  }

  /** Whether trying again later may succeed (no answer, a 5xx, or a 429). */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export interface ServerAnswer<T = unknown> {
  status: number;
  /** Parsed JSON when the server answered JSON, else the text. */
  body: T;
  contentType: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class ServerClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly key: { signer: Signer },
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Sends one signed request; non-2xx answers throw a ServerError carrying status and code. */
  async request<T = unknown>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<ServerAnswer<T>> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const sent = await this.send(method, path, body, options, timeoutMs);
    let text: string;
    try {
      text = await sent.response.text();
    } catch (error) {
      throw sent.failure(error, 'the answer was cut short');
    } finally {
      sent.settle();
    }
    const { response } = sent;
    if (!response.ok) throw errorFrom(method, path, response.status, text);
    const contentType = response.headers.get('content-type') ?? '';
    let parsed: unknown = text;
    if (contentType.includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ServerError(response.status, 'bad_answer', `${method} ${path}: the server answered malformed JSON`);
      }
    }
    return { status: response.status, body: parsed as T, contentType };
  }

  /** Opens a signed GET whose body is read as a stream (server-sent events); the caller ends it with `signal`. */
  async stream(path: string, signal: AbortSignal): Promise<Response> {
    // The timeout covers the wait for the headers only; after that the stream lives until `signal` aborts it.
    const sent = await this.send('GET', path, undefined, { signal, headers: { accept: 'text/event-stream' } }, this.timeoutMs);
    sent.stopTimer();
    if (!sent.response.ok) throw errorFrom('GET', path, sent.response.status, await sent.response.text().catch(() => ''));
    return sent.response;
  }

  private async send(method: string, path: string, body: unknown, options: RequestOptions, timeoutMs: number): Promise<Sent> {
    const url = new URL(this.baseUrl + path);
    const where = `${method} ${url.origin}${path}`;
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body), 'utf8');
    const signature = signRequest({ method, path: url.pathname + url.search, body: bytes }, this.key.signer);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => ((timedOut = true), controller.abort()), timeoutMs);
    const forward = () => controller.abort();
    options.signal?.addEventListener('abort', forward, { once: true });
    if (options.signal?.aborted) controller.abort();
    const stopTimer = () => clearTimeout(timer);
    const settle = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', forward);
    };
    const failure = (error: unknown, what?: string) => {
      if (timedOut) return new ServerError(0, 'timeout', `${where}: no answer within ${timeoutMs} ms`, { cause: error });
      if (options.signal?.aborted) return new ServerError(0, 'aborted', `${where}: aborted`, { cause: error });
      return new ServerError(0, 'unreachable', `${where}: ${what ?? 'cannot reach the server'} (${describe(error)})`, { cause: error });
    };
    try {
      const response = await fetch(url, {
        method,
        headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...signature, ...options.headers },
        ...(body !== undefined && { body: bytes }),
        signal: controller.signal,
      });
      return { response, settle, stopTimer, failure };
    } catch (error) {
      settle();
      throw failure(error);
    }
  }
}

interface Sent {
  response: Response;
  /** Stops the timeout and lets go of the caller's signal. */
  settle(): void;
  /** Stops the timeout only: the caller's signal still aborts the response. */
  stopTimer(): void;
  failure(error: unknown, what?: string): ServerError;
}

function errorFrom(method: string, path: string, status: number, text: string): ServerError {
  // `text` is whatever the server (or a proxy in front of it) sent: read it defensively.
  let code = `http_${status}`;
  let message = text.slice(0, 500) || `HTTP ${status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // Not JSON: keep the text.
  }
  return new ServerError(status, code, `${method} ${path}: ${status} ${code}: ${message}`);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
