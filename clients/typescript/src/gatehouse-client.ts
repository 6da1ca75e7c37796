import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.generated.js';

export type { components, operations, paths };
/** The request and response bodies of the API, by schema name: `Schemas['CreateKeyDto']`. */
export type Schemas = components['schemas'];
/** A client whose methods (`GET`, `POST`, ...) take the API's paths and bodies, typed. */
export type GatehouseClient = Client<paths>;

export interface RetryPolicy {
  /** Retries after the first attempt (so at most `maxRetries + 1` requests). Default 2. */
  maxRetries: number;
  /**
   * The longest wait the client accepts. A `Retry-After` asking for more is not waited
   * for: the 429 or 503 is returned as it is. Default 60 s.
   */
  maxDelayMs: number;
  /** The first wait when the response has no `Retry-After`; doubled on each retry. Default 500 ms. */
  backoffMs: number;
}

export interface GatehouseClientOptions {
  /** The server's origin, e.g. `http://localhost:3000`: the typed paths start with `/api/v1`. */
  baseUrl: string;
  /** An API key (`sk_live_...` or `sk_test_...`), sent as `X-API-Key`. */
  apiKey?: string;
  /**
   * A user's access token (`access_token` from `POST /api/v1/auth/login`), sent as
   * `Authorization: Bearer`. A function is asked before every request, so it can hand out
   * a refreshed token.
   */
  accessToken?: string | (() => string | undefined | Promise<string | undefined>);
  /**
   * Retries of 429 (rate limit, quota) and 503 (a dependency down), after `Retry-After`.
   * Only requests that are safe to send twice are retried: GET, HEAD, OPTIONS, PUT and
   * DELETE, and POSTs that carry an `Idempotency-Key`. `false`: no retries.
   */
  retry?: Partial<RetryPolicy> | false;
  /**
   * Give every POST that has none a random `Idempotency-Key`, so its retries are replayed
   * by the server rather than run twice. Default true.
   */
  idempotencyKeys?: boolean;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to send requests with (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

const DEFAULT_RETRY: RetryPolicy = { maxRetries: 2, maxDelayMs: 60_000, backoffMs: 500 };
const RETRIED_STATUSES = new Set([429, 503]);
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const IDEMPOTENCY_HEADERS = ['idempotency-key', 'x-idempotency-key'];

/** The server replays a POST by its key (API.md); other methods do not use one. */
function isSafeToRepeat(request: Request): boolean {
  if (IDEMPOTENT_METHODS.has(request.method)) return true;
  return request.method === 'POST' && IDEMPOTENCY_HEADERS.some((name) => request.headers.has(name));
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // HTTP dates (RFC 9110) begin with the day's name; Date.parse alone takes "1.5" for 2001.
  if (!/^[A-Za-z]{3}/.test(value)) return null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(date - now, 0);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A fetch that sends a request again after a 429 or 503, when that is safe, within `policy`. */
function retryingFetch(
  send: (request: Request) => Promise<Response>,
  policy: RetryPolicy,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const repeatable = isSafeToRepeat(request);
    for (let retry = 0; ; retry += 1) {
      // A clone per attempt: a body can be read once, and a retry sends it again.
      const response = await send(repeatable ? request.clone() : request);
      if (!repeatable || retry >= policy.maxRetries || !RETRIED_STATUSES.has(response.status)) {
        return response;
      }
      const delay =
        retryAfterMs(response.headers.get('retry-after')) ?? policy.backoffMs * 2 ** retry;
      if (delay > policy.maxDelayMs) return response;
      await response.body?.cancel();
      await sleep(delay, request.signal);
    }
  };
}

/** Credentials and idempotency keys, set before any middleware the caller adds. */
function requestHeaders(options: GatehouseClientOptions): Middleware {
  const { apiKey, accessToken, idempotencyKeys = true } = options;
  return {
    async onRequest({ request }) {
      if (apiKey !== undefined) request.headers.set('x-api-key', apiKey);
      const token = typeof accessToken === 'function' ? await accessToken() : accessToken;
      if (token !== undefined) request.headers.set('authorization', `Bearer ${token}`);
      if (
        idempotencyKeys &&
        request.method === 'POST' &&
        !IDEMPOTENCY_HEADERS.some((name) => request.headers.has(name))
      ) {
        request.headers.set('idempotency-key', crypto.randomUUID());
      }
      return request;
    },
  };
}

/**
 * A typed client of the Gatehouse API (openapi-fetch over the types generated from the
 * server's OpenAPI document). Calls answer `{ data }` on success and `{ error }` (the API's
 * error body) otherwise, with the `response` in both.
 *
 * ```ts
 * const gatehouse = createGatehouseClient({ baseUrl: 'http://localhost:3000', apiKey });
 * const { data, error } = await gatehouse.GET('/api/v1/keys');
 * ```
 */
export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  if (options.apiKey !== undefined && options.accessToken !== undefined) {
    throw new Error('createGatehouseClient: give apiKey or accessToken, not both');
  }
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: options.headers,
    fetch:
      options.retry === false ? send : retryingFetch(send, { ...DEFAULT_RETRY, ...options.retry }),
  });
  client.use(requestHeaders(options));
  return client;
}
