import { errorFromResponse, NetworkError, TimeoutError } from './errors.js';
import { isIdempotentOperation } from './idempotency.js';
import type { OperationId } from './types.js';

export interface GatehouseClientOptions {
  /** Where the API answers, e.g. https://api.example.com (no trailing /v1). */
  baseUrl: string;
  /** An API key (gate_live_…), sent as a bearer token. */
  apiKey?: string;
  /** An access token from a login made elsewhere; `auth.login()` sets one itself. */
  accessToken?: string;
  /** A fetch to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /** Retries after the first attempt for retryable failures; 2 unless told. */
  retries?: number;
  /** Per attempt; 30 s unless told. */
  timeoutMs?: number;
  /** Sent as Accept-Language: problem titles and details come back in it (en, tr, ar). */
  language?: string;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Per-call options every method accepts as its last argument. */
export interface RequestOptions {
  /**
   * For POST: the Idempotency-Key to send. Every POST the server de-duplicates (those whose spec
   * documents the header) gets a random one unless given, so a retried POST is one operation on
   * the server. A POST with a key is retried; one without is not. `false` sends none.
   */
  idempotencyKey?: string | false;
  /** Aborts the call (all attempts). */
  signal?: AbortSignal;
}

export interface ApiRequest {
  /** The spec's operationId: decides whether a POST carries an Idempotency-Key. */
  operation: OperationId;
  method: HttpMethod;
  path: string;
  query?: object;
  body?: unknown;
  /** Public routes send no credential (a stale token must not turn a public call into a 401). */
  anonymous?: boolean;
  options?: RequestOptions;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 8_000;
/** A Retry-After beyond this is not waited for: the error is thrown for the caller to schedule. */
const MAX_RETRY_AFTER_SECONDS = 60;

interface Tokens {
  accessToken?: string;
  refreshToken?: string;
}

/**
 * Sends requests: credentials, Accept-Language, Idempotency-Key, per-attempt timeouts, retries of
 * safe requests with backoff (full jitter, or the server's Retry-After), and one token refresh on
 * ACCESS_TOKEN_EXPIRED.
 *
 * A POST the server does not de-duplicate gets no key and is never retried: the server ignores a
 * key there, so a retry would run the operation again. One it does (an access check among them,
 * which would otherwise count the customer's call twice) is retried with the same key.
 */
export class Transport {
  readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private tokens: Tokens;
  private refreshing: Promise<void> | undefined;
  /** Set by the auth namespace: exchanges the refresh token for new tokens. */
  refresher: ((refreshToken: string) => Promise<void>) | undefined;

  constructor(private readonly options: GatehouseClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (!fetchImpl) throw new Error('No fetch: pass options.fetch');
    this.fetch = (input, init) => fetchImpl(input, init);
    this.retries = options.retries ?? 2;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.tokens = { accessToken: options.accessToken };
  }

  setTokens(tokens: Tokens): void {
    this.tokens = { ...tokens };
  }

  get refreshToken(): string | undefined {
    return this.tokens.refreshToken;
  }

  async request<T>(request: ApiRequest): Promise<T> {
    const sentWith = this.tokens.accessToken;
    let response = await this.send(request);
    if (response.status === 401 && this.refresher && this.tokens.refreshToken && !request.anonymous) {
      const error = await errorFromResponse(response.clone());
      if (error.code === 'ACCESS_TOKEN_EXPIRED') {
        // A parallel call may have refreshed already: then only send again, with the new token.
        if (this.tokens.accessToken === sentWith) await this.refreshOnce();
        response = await this.send(request);
      }
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204 || request.method === 'HEAD') return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Concurrent calls that all met an expired token share one refresh. */
  private refreshOnce(): Promise<void> {
    const refreshToken = this.tokens.refreshToken!;
    this.refreshing ??= this.refresher!(refreshToken).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** One call: attempts until an answer that is final, or retries run out. */
  private async send(request: ApiRequest): Promise<Response> {
    const url = this.url(request.path, request.query);
    const headers = this.headers(request);
    const retryable = isRetryable(request.method, headers);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    for (let attempt = 0; ; attempt++) {
      const canRetry = retryable && attempt < this.retries;
      let response: Response;
      try {
        response = await this.attempt(url, { method: request.method, headers, body }, request.options?.signal);
      } catch (error) {
        if (!canRetry || !(error instanceof NetworkError || error instanceof TimeoutError)) throw error;
        await sleep(backoffMs(attempt), request.options?.signal);
        continue;
      }
      if (!canRetry || !(RETRYABLE_STATUS.has(response.status) || response.status === 409)) return response;
      const wait = await this.waitBeforeRetry(response, attempt);
      if (wait === undefined) return response;
      await sleep(wait, request.options?.signal);
    }
  }

  /**
   * How long to wait before retrying this answer, or undefined for no retry: Retry-After when the
   * server sent one (unless too far off), else backoff. A 409 is retried only when it says the
   * same Idempotency-Key is still running: the retry then gets that request's result.
   */
  private async waitBeforeRetry(response: Response, attempt: number): Promise<number | undefined> {
    const { retryAfter, code } = await errorFromResponse(response.clone());
    if (response.status === 409 && code !== 'IDEMPOTENCY_KEY_IN_USE') return undefined;
    if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_SECONDS) return undefined;
    // This answer is dropped for the retry: release its connection.
    await response.body?.cancel();
    return retryAfter === undefined ? backoffMs(attempt) : retryAfter * 1000;
  }

  private async attempt(url: string, init: { method: string; headers: Record<string, string>; body?: string }, signal?: AbortSignal): Promise<Response> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const cancel = () => controller.abort();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      signal?.throwIfAborted();
      return await this.fetch(url, { ...init, signal: controller.signal });
    } catch (error) {
      if (timedOut) throw new TimeoutError(this.timeoutMs);
      if (signal?.aborted) throw error;
      throw new NetworkError(`${init.method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    }
  }

  private headers(request: ApiRequest): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.language) headers['accept-language'] = this.options.language;
    const credential = request.anonymous ? undefined : (this.tokens.accessToken ?? this.options.apiKey);
    if (credential) headers.authorization = `Bearer ${credential}`;
    const key = request.options?.idempotencyKey;
    if (request.method === 'POST' && key !== false && (key !== undefined || isIdempotentOperation(request.operation))) {
      headers['idempotency-key'] = key ?? globalThis.crypto.randomUUID();
    }
    return headers;
  }

  private url(path: string, query?: object): string {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) search.append(name, String(value));
    }
    const qs = search.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }
}

/** GET, HEAD, PUT and DELETE are safe to repeat; a POST only with an Idempotency-Key. */
function isRetryable(method: HttpMethod, headers: Record<string, string>): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'PUT' || method === 'DELETE' || (method === 'POST' && 'idempotency-key' in headers);
}

/** Full jitter: uniform in [0, min(cap, base·2^attempt)). */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });
}
