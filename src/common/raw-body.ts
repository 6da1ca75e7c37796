import { type Readable } from 'node:stream';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from './app-error.js';

/** The media type a raw-body route's requests are parsed as, whatever they sent. */
const RAW_MEDIA_TYPE = 'application/x-gatehouse-raw-body';

interface RawBodyRouteConfig {
  rawBody?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** On a @RawBody() route: the Content-Type the client sent (it is rewritten for parsing). */
    sentContentType?: string;
  }
}

/**
 * `@RawBody()`: the route gets the request body as the unread stream (`@Body()` is a Readable,
 * or undefined for a request without a body), whatever its Content-Type, or none. For wire
 * protocols (Sentry envelopes) whose clients send any or no Content-Type; every other route
 * keeps the JSON-only parsing (415 otherwise). No body limit applies: the route bounds what it
 * reads itself.
 */
export const RawBody = () => RouteConfig({ rawBody: true } satisfies RawBodyRouteConfig);

function isRawBodyRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as RawBodyRouteConfig | undefined)?.rawBody === true;
}

/**
 * Fastify picks a body parser by Content-Type after the preParsing hooks, from one set for
 * every route Nest registers. So a raw-body route's Content-Type is rewritten in preParsing to
 * a type only this parser takes, and the parser hands the payload stream on unread; sent to
 * any other route, that type is refused like any non-JSON body.
 */
export function registerRawBodyRoutes(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (isRawBodyRoute(request)) {
      request.sentContentType = request.headers['content-type'];
      request.headers['content-type'] = RAW_MEDIA_TYPE;
    }
    done(null, payload);
  });
  fastify.addContentTypeParser(RAW_MEDIA_TYPE, (request, payload: Readable, done) => {
    if (isRawBodyRoute(request)) done(null, payload);
    else
      done(
        new AppError('UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type: ${RAW_MEDIA_TYPE}`),
        undefined,
      );
  });
}
