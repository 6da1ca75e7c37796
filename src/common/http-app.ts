import { randomUUID } from 'node:crypto';
import { type RequestListener, createServer } from 'node:http';
import { type INestApplication, Logger, VersioningType } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { AppConfig } from '../config/config.classes.js';
import { BlockedCredentials } from '../modules/auth/blocked-credentials.js';
import { HttpMetrics } from '../modules/metrics/http-metrics.js';
import { SENTRY_CORS, isEnvelopeUrl } from '../modules/envelopes/sentry-cors.js';
import { LimitEventRecorder } from '../modules/rate-limit/limit-event-recorder.js';
import { UsageRecorder } from '../modules/usage/usage-recorder.js';
import { CLIENT_CLOSED_STATUS } from '../modules/usage/usage-record.js';
import { AppError, CommonErrors, type FieldError } from './app-error.js';
import { errorBody } from './exception.filter.js';
import { findUnstorableText, jsonShapeProblem } from './json-limits.js';
import { serveOpenApi } from './openapi.js';
import { registerRawBodyRoutes } from './raw-body.js';
import { requestIdFor } from './request-id.js';

export const BODY_LIMIT_BYTES = 10 * 1024 * 1024;
export const MAX_URL_BYTES = 8 * 1024;
export const MAX_HEADER_BYTES = 32 * 1024;
export const MAX_QUERY_PARAMS = 50;

/** Routes that live outside /api/v1 (API.md, "Paths and versions"). */
const UNPREFIXED = ['health', 'health/live', 'health/ready', 'metrics'];

export interface AdapterOptions {
  /**
   * TRUST_PROXY: whose X-Forwarded-For sets `request.ip` (and so IP allowlists, the login
   * throttle and audit entries). false: nobody, the socket's peer is the client; a number:
   * that many proxies nearest the server, whoever they are (so only when clients cannot reach
   * the api but through them); a list: peers at those addresses or CIDRs.
   */
  trustProxy: false | number | string[];
}

/** The Fastify instance behind Nest, with the contract's size limits and request ids. */
export function createFastifyAdapter({ trustProxy }: AdapterOptions): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Node answers 431 itself for larger header blocks.
    serverFactory: (handler: RequestListener) =>
      createServer({ maxHeaderSize: MAX_HEADER_BYTES }, handler),
    requestIdHeader: false,
    genReqId: requestIdFor,
    logger: false,
    // Fastify 5 refuses a bare number (it cannot check the nearest peer), so a hop count is
    // the function proxy-addr would build: trust the n addresses nearest the server.
    trustProxy:
      typeof trustProxy === 'number'
        ? (_address: string, hop: number) => hop < trustProxy
        : trustProxy,
    // On close, drop idle keep-alive connections at once; in-flight requests still finish.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    // Errors Fastify raises before routing (a malformed URL) get the contract's body too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const appError = CommonErrors.validation([], `Bad request: ${error.message}`);
      void reply.code(400).header('x-request-id', request.id).send(errorBody(appError, request.id));
    },
    // Errors Node's HTTP parser raises before Fastify sees a request (oversized headers, a
    // bad Content-Length): answered on the socket, still in the contract's format.
    clientErrorHandler: (error: Error & { code?: string }, socket) => {
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const requestId = randomUUID();
      const body = JSON.stringify(
        errorBody(
          CommonErrors.validation(
            [],
            tooLarge
              ? `Request headers are larger than ${MAX_HEADER_BYTES} bytes`
              : 'Malformed HTTP request',
          ),
          requestId,
        ),
      );
      const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy(error);
      }
    },
  });
}

const NOT_UTF8 = 'the body must be UTF-8 (RFC 8259): it has bytes that are not';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON text is UTF-8; a lossy decode would store U+FFFD where the client sent other bytes. */
function utf8OrNull(body: Buffer): string | null {
  try {
    return strictUtf8.decode(body);
  } catch {
    return null;
  }
}

/** A body's refusal, found while parsing and thrown before the route (see replaceJsonParser). */
const refusedBodies = new WeakMap<FastifyRequest, AppError>();

/**
 * Fastify's own JSON parser (prototype poisoning refused), with the bounds of json-limits.ts
 * checked around it: depth and sizes on the raw text before parsing, then unstorable strings
 * in one walk of the result. A body that passes is safe for any later walker. A refused body
 * was read whole, so its 400 is thrown from preValidation rather than by the parser, which
 * would make Fastify close the connection (right only when unread data may follow).
 */
function replaceJsonParser(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : utf8OrNull(body);
      const shapeProblem = text === null ? null : jsonShapeProblem(text);
      if (text === null || shapeProblem !== null) {
        const problem = shapeProblem ?? NOT_UTF8;
        const details = [{ field: 'body', message: problem }];
        refusedBodies.set(request, CommonErrors.validation(details, `Invalid body: ${problem}`));
        done(null, undefined);
        return;
      }
      void parseJson(request, text, (error: Error | null, value?: unknown) => {
        if (error !== null) {
          done(error, undefined);
          return;
        }
        const unacceptable = findUnstorableText(value);
        if (unacceptable !== null) {
          const message = `Invalid body: ${unacceptable.message}`;
          refusedBodies.set(request, CommonErrors.validation([unacceptable], message));
        }
        done(null, unacceptable === null ? value : undefined);
      });
    },
  );
  fastify.addHook('preValidation', (request, _reply, done) => {
    done(refusedBodies.get(request));
  });
}

function countQueryParams(url: string): number {
  const query = url.indexOf('?');
  if (query === -1) return 0;
  return url
    .slice(query + 1)
    .split('&')
    .filter((pair) => pair !== '').length;
}

/**
 * The first query parameter whose name or value is not percent-encoded UTF-8 (a bare `%`,
 * `%FF`, `%ED%A0%80`: the bytes of a lone surrogate), as a field error; else null. Fastify's
 * parser keeps such text verbatim, so a filter would silently match something the client did
 * not send.
 */
function malformedQueryParam(url: string): FieldError | null {
  const query = url.indexOf('?');
  // Only a `%` escape can be malformed: most query strings have none.
  if (query === -1 || !url.includes('%', query)) return null;
  for (const pair of url.slice(query + 1).split('&')) {
    try {
      decodeURIComponent(pair);
    } catch {
      const [name = ''] = pair.split('=');
      let field = 'query';
      try {
        field = decodeURIComponent(name).slice(0, 64) || field;
      } catch {
        // The name itself is malformed: the error names the query string.
      }
      return { field, message: `${field} must be percent-encoded UTF-8` };
    }
  }
  return null;
}

/** Methods that may be routed; OPTIONS is left out, the CORS layer answers it on any path. */
const ROUTED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The methods the path of `url` has routes for (none: the path does not exist). */
function allowedMethods(fastify: FastifyInstance, url: string): string[] {
  const path = url.split('?')[0] ?? url;
  return ROUTED_METHODS.filter((method) => fastify.findRoute({ method, url: path }) !== null);
}

/**
 * Request-level conventions that must hold before any route runs (and for unmatched URLs):
 * the X-Request-Id echo, URL and query-string limits, 405 for a method a path does not have,
 * the refusal of a blocked address's failed credentials, and after the response the one log
 * line, the metrics sample and the usage record. When the server closes (in-flight requests
 * answered), the usage records and limit events still buffered are handed over, while the
 * queue is still open.
 */
function registerHooks(
  fastify: FastifyInstance,
  metrics: HttpMetrics,
  blockedCredentials: BlockedCredentials,
  usage: UsageRecorder,
  limitEvents: LimitEventRecorder,
): void {
  const logger = new Logger('HTTP');

  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // A client that closes the connection before the answer: its request is still processed
    // and counted against its limits, and may never reach onResponse (the answer is not sent).
    request.raw.on('close', () => {
      if (reply.raw.writableFinished) return;
      logger.log({
        msg: 'request closed by client',
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: CLIENT_CLOSED_STATUS,
        request_id: request.id,
      });
      usage.recordClosed(request, reply);
    });
    if (request.url.length > MAX_URL_BYTES) {
      throw new AppError('URI_TOO_LONG', `URL is longer than ${MAX_URL_BYTES} bytes`);
    }
    if (countQueryParams(request.url) > MAX_QUERY_PARAMS) {
      throw CommonErrors.validation(
        [{ field: 'query', message: `at most ${MAX_QUERY_PARAMS} query parameters are allowed` }],
        'Too many query parameters',
      );
    }
    // Query strings and path parameters reach Postgres and logs like bodies do.
    const unacceptable =
      malformedQueryParam(request.url) ??
      findUnstorableText(request.query) ??
      findUnstorableText(request.params);
    if (unacceptable !== null) {
      throw CommonErrors.validation([unacceptable], `Invalid request: ${unacceptable.message}`);
    }
  });

  // Fastify answers a path that exists, asked with a method it does not have, as a 404.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const allowed = request.is404 ? allowedMethods(fastify, request.url) : [];
    done(allowed.length > 0 ? CommonErrors.methodNotAllowed(request.method, allowed) : undefined);
  });

  // Thrown to the exception filter like the auth guard's own refusal, before any routing.
  fastify.addHook('onRequest', async (request) => {
    const refusal = await blockedCredentials.refusalOf(request);
    if (refusal !== null) throw refusal;
  });

  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const durationMs = reply.elapsedTime;
    metrics.observe(request.method, route, reply.statusCode, durationMs / 1000);
    logger.log({
      msg: 'request',
      method: request.method,
      route,
      status: reply.statusCode,
      duration_ms: Math.round(durationMs * 100) / 100,
      request_id: request.id,
    });
    usage.recordResponse(request, reply);
  });

  fastify.addHook('onClose', () => usage.close());
  fastify.addHook('onClose', () => limitEvents.close());
}

/** Where routes live (API.md, "Paths and versions"); the OpenAPI document reads it too. */
export function configureRoutes(app: INestApplication): void {
  app.setGlobalPrefix('api', { exclude: UNPREFIXED });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
}

/**
 * Everything HTTP about the api process, applied identically by main.ts and the e2e tests:
 * prefix and versioning, body parsing, security headers, CORS, hooks and the OpenAPI docs.
 */
export function configureHttpApp(app: NestFastifyApplication): void {
  const config = app.get(AppConfig);
  const fastify = app.getHttpAdapter().getInstance();

  configureRoutes(app);

  // Bodies are JSON only (API.md): Fastify's own JSON parser stays, its text/plain one goes,
  // and Nest's urlencoded parser is never added (bodyParser: false), so anything else is 415.
  fastify.removeContentTypeParser('text/plain');
  replaceJsonParser(fastify);
  // Except @RawBody() routes (Sentry envelopes), which read the body as it arrives.
  registerRawBodyRoutes(fastify);

  // Security headers on every response. Helmet's middleware is built once here: the Fastify
  // plugin built it (CSP directives included) again on every request.
  const securityHeaders = helmet({
    // Swagger UI at /docs needs inline scripts and styles; the API itself only serves JSON.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: null,
      },
    },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) =>
      done(error instanceof Error ? error : undefined),
    );
  });
  const apiCors = {
    origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
    exposedHeaders: [
      'X-Request-Id',
      'Idempotent-Replayed',
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'X-RateLimit-Window',
      'RateLimit-Policy',
      'RateLimit',
      'X-Quota-Limit',
      'X-Quota-Remaining',
      'X-Quota-Reset',
      'Deprecation',
      'Sunset',
      'Link',
    ],
  };
  // The Sentry envelope route answers any origin (src/modules/envelopes/sentry-cors.ts).
  app.enableCors({
    delegator: (request, callback) =>
      callback(null, isEnvelopeUrl(request.url) ? SENTRY_CORS : apiCors),
  });

  registerHooks(
    fastify,
    app.get(HttpMetrics),
    app.get(BlockedCredentials),
    app.get(UsageRecorder),
    app.get(LimitEventRecorder),
  );
  serveOpenApi(app);
}
