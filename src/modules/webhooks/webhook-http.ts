import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { RESPONSE_BODY_MAX_BYTES } from './webhooks.dto.js';

export interface PostResult {
  status: number;
  /** The first RESPONSE_BODY_MAX_BYTES of the body, as UTF-8. */
  body: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** Resolves (and judges) the host; the connection is made only to what it returns. */
  lookup: LookupFunction;
}

/**
 * POSTs `body` to `url` once: no redirect is followed (a 3xx is just a status), the whole
 * exchange is cut at `timeoutMs`, and only the start of the response body is read. Rejects
 * with an Error saying what went wrong when no status came back.
 */
export function postOnce(url: URL, body: string, options: PostOptions): Promise<PostResult> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, {
      method: 'POST',
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Gatehouse-Webhooks/1.0',
      },
      lookup: options.lookup,
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy(new Error(`timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).subarray(0, RESPONSE_BODY_MAX_BYTES).toString('utf8');
        // A cut character's remains go, and NUL, which a Postgres text column refuses.
        const body = text.replace(/\uFFFD$/, '').replaceAll('\u0000', '');
        resolve({ status: response.statusCode ?? 0, body });
        response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= RESPONSE_BODY_MAX_BYTES) finish();
      });
      response.on('end', finish);
      response.on('error', finish);
    });
    request.end(body);
  });
}
