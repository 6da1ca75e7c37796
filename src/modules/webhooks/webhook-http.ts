import { Agent as HttpAgent, type ClientRequest, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { RESPONSE_BODY_MAX_BYTES } from './webhooks.dto.js';

/**
 * An idle kept-alive connection is closed after this long: below the 5 s a Node server keeps
 * one (other servers keep them longer), so a reused connection is rarely one the receiver is
 * closing at that moment.
 */
const IDLE_CONNECTION_MS = 4_000;

/**
 * The connections deliveries go out on, kept alive between attempts to the same host and
 * port. Every connection is opened through `lookup`, which resolves and judges the host when
 * it is dialled (the SSRF check): a kept connection already went to an allowed address, and a
 * new one is judged again. One pair per lookup (i.e. per SSRF policy), never shared across.
 */
export interface WebhookAgents {
  http: HttpAgent;
  https: HttpsAgent;
  destroy(): void;
}

export function webhookAgents(lookup: LookupFunction): WebhookAgents {
  // Agent options reach net/tls.connect, which takes `lookup`; the agents' types omit it.
  const options = {
    keepAlive: true,
    timeout: IDLE_CONNECTION_MS,
    maxFreeSockets: 16,
    scheduling: 'lifo' as const,
    lookup,
  };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    destroy: () => {
      http.destroy();
      https.destroy();
    },
  };
}

export interface PostResult {
  status: number;
  /** The first RESPONSE_BODY_MAX_BYTES of the body, as UTF-8. */
  body: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** The connections to send on (webhookAgents: each opened through the guarded lookup). */
  agents: WebhookAgents;
}

/**
 * POSTs `body` to `url` once: no redirect is followed (a 3xx is just a status), the whole
 * exchange is cut at `timeoutMs`, and only the start of the response body is read. Rejects
 * with an Error saying what went wrong when no status came back. A kept-alive connection the
 * receiver closed before answering (a reset, no status) is tried again once on another.
 */
export async function postOnce(url: URL, body: string, options: PostOptions): Promise<PostResult> {
  const deadline = Date.now() + options.timeoutMs;
  try {
    return await postOn(url, body, options, options.timeoutMs);
  } catch (error) {
    if (!(error instanceof StaleConnection)) throw error;
    return postOn(url, body, options, Math.max(deadline - Date.now(), 1));
  }
}

/** A kept-alive connection that failed before any answer: the receiver had closed it. */
class StaleConnection extends Error {}

function postOn(
  url: URL,
  body: string,
  options: PostOptions,
  timeoutMs: number,
): Promise<PostResult> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request: ClientRequest = (https ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Gatehouse-Webhooks/1.0',
      },
      agent: https ? options.agents.https : options.agents.http,
    });
    let answered = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new Error(`timed out after ${options.timeoutMs} ms`));
    }, timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      const stale = request.reusedSocket && !answered && !timedOut;
      reject(stale ? new StaleConnection(error.message) : error);
    });
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      /** The answer; `keep` when the body was read to its end (the connection can be reused). */
      const finish = (keep: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).subarray(0, RESPONSE_BODY_MAX_BYTES).toString('utf8');
        // A cut character's remains go, and NUL, which a Postgres text column refuses.
        const body = text.replace(/\uFFFD$/, '').replaceAll('\u0000', '');
        resolve({ status: response.statusCode ?? 0, body });
        if (!keep) response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_BODY_MAX_BYTES) finish(false);
      });
      response.on('end', () => finish(true));
      response.on('error', () => finish(false));
    });
    request.end(body);
  });
}
