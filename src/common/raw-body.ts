import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Readable } from 'node:stream';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest, preParsingHookHandler } from 'fastify';
import { AppError } from './app-error.js';

/** The media type a raw-body route's requests are parsed as, whatever they sent. */
const RAW_MEDIA_TYPE = 'application/x-gatehouse-raw-body';

/** What a raw-body route takes: at most `maxBytes` as sent, else `tooLarge()` is the answer. */
export interface RawBodyLimit {
  maxBytes: number;
  tooLarge: () => Error;
}

interface RawBodyRouteConfig {
  rawBody?: RawBodyLimit;
}

/**
 * `@RawBody(limit)`: the route gets the request body as the unread stream (`@Body()` is a
 * Readable, or undefined for a request without a body), whatever its Content-Type, or none. For
 * wire protocols (Sentry envelopes) whose clients send any or no Content-Type; every other route
 * keeps the JSON-only parsing (415 otherwise). Fastify's bodyLimit does not apply: a request
 * whose Content-Length already passes `limit.maxBytes` is answered `limit.tooLarge()` here
 * before a byte of its body is read (the rest is dropped, see lingerThenClose), and the route
 * bounds what it reads of the others itself (a chunked body has no
 * Content-Length, and one may send less than it declares).
 */
export const RawBody = (limit: RawBodyLimit) =>
  RouteConfig({ rawBody: limit } satisfies RawBodyRouteConfig);

function rawBodyLimitOf(request: FastifyRequest): RawBodyLimit | undefined {
  return (request.routeOptions.config as RawBodyRouteConfig | undefined)?.rawBody;
}

/**
 * How the rest of a refused body is read and dropped (nginx's lingering close): while the
 * client keeps sending (at most LINGER_IDLE_MS between reads), for at most LINGER_MAX_MS.
 */
const LINGER_IDLE_MS = 5_000;
const LINGER_MAX_MS = 30_000;

/**
 * For an answer sent before the body was read to its end (a refusal): a connection closed at
 * once, while the client is still sending, makes its kernel reset the connection, and a reset
 * can drop the answer before the client reads it (fetch fails with ECONNRESET instead of seeing
 * the 413). So, as nginx's lingering close does, the rest of the body is read and dropped after
 * the answer, and the connection is closed once the client pauses for LINGER_IDLE_MS or the
 * whole takes LINGER_MAX_MS. Memory stays constant; a client that sends the rest of its body
 * in time keeps its connection (the HTTP parser knows where the body ends).
 */
export function lingerThenClose(request: IncomingMessage, response: ServerResponse): void {
  response.once('finish', () => {
    if (request.complete) return;
    const close = () => request.socket.destroy();
    const idle = setTimeout(close, LINGER_IDLE_MS).unref();
    const cap = setTimeout(close, LINGER_MAX_MS).unref();
    const onData = () => idle.refresh();
    const settled = () => {
      clearTimeout(idle);
      clearTimeout(cap);
      request.off('data', onData);
    };
    request.on('data', onData).once('end', settled).once('close', settled);
    request.resume();
  });
}

/**
 * Fastify picks a body parser by Content-Type after the preParsing hooks, from one set for
 * every route Nest registers. So a raw-body route's Content-Type is rewritten in preParsing to
 * a type only this parser takes, and the parser hands the payload stream on unread; sent to
 * any other route, that type is refused like any non-JSON body.
 */
export function registerRawBodyRoutes(fastify: FastifyInstance): void {
  // A hook of the raw-body routes only (added as each is registered), not of every request.
  fastify.addHook('onRoute', (route) => {
    const config: RawBodyRouteConfig | undefined = route.config;
    const limit = config?.rawBody;
    if (limit === undefined) return;
    const rawBody: preParsingHookHandler = (request, reply, payload, done) => {
      // Node's parser has refused a Content-Length that is not one decimal number (400).
      if (Number(request.headers['content-length'] ?? 0) > limit.maxBytes) {
        lingerThenClose(request.raw, reply.raw);
        done(limit.tooLarge(), payload);
        return;
      }
      request.headers['content-type'] = RAW_MEDIA_TYPE;
      done(null, payload);
    };
    route.preParsing = [route.preParsing ?? []].flat().concat(rawBody);
  });
  fastify.addContentTypeParser(RAW_MEDIA_TYPE, (request, payload: Readable, done) => {
    if (rawBodyLimitOf(request) !== undefined) done(null, payload);
    else
      done(
        new AppError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type: ${RAW_MEDIA_TYPE}`),
        undefined,
      );
  });
}
