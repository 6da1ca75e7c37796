import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  type OpenAPIObject,
  type OperationObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from './app-error.js';
import { ErrorResponseDto, FieldErrorDto } from './error-response.dto.js';
import { IDEMPOTENCY_IGNORED, KEY_PATTERN } from './idempotency.interceptor.js';
import { documentValidationBounds } from './openapi-bounds.js';
import { requestExampleOf } from './request-example.js';

const ERROR_REF = { $ref: '#/components/schemas/ErrorResponseDto' };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** One example body per error code, shown under each status that answers with that code. */
const ERROR_EXAMPLES: Record<ErrorCode, { message: string; details?: unknown }> = {
  VALIDATION_ERROR: {
    message: 'Request validation failed',
    details: [{ field: 'name', message: 'name must be a string' }],
  },
  AUTHENTICATION_FAILED: { message: 'Authentication required' },
  API_KEY_INVALID: { message: 'Invalid API key' },
  API_KEY_REVOKED: { message: 'API key has been revoked' },
  API_KEY_EXPIRED: { message: 'API key has expired' },
  TOKEN_EXPIRED: { message: 'The access token has expired; refresh it' },
  PERMISSION_DENIED: { message: 'Missing permission: keys:write' },
  IP_NOT_ALLOWED: { message: 'This API key may not be used from this address' },
  RESOURCE_NOT_FOUND: { message: 'Resource not found' },
  METHOD_NOT_ALLOWED: { message: 'PUT is not allowed on this path; it allows GET, HEAD, POST' },
  CONFLICT: { message: 'A project with this slug already exists in the organization' },
  API_VERSION_SUNSET: { message: 'This API version has been sunset' },
  PAYLOAD_TOO_LARGE: { message: 'Request body is larger than 10485760 bytes' },
  URI_TOO_LONG: { message: 'URL is longer than 8192 bytes' },
  UNSUPPORTED_MEDIA_TYPE: { message: 'Request bodies must be application/json' },
  IDEMPOTENCY_KEY_REUSED: {
    message: 'This Idempotency-Key was used with a different request',
  },
  RATE_LIMIT_EXCEEDED: {
    message: 'Rate limit of 100 per 60 s exceeded',
    details: { limit: 100, current: 100, window: 60, reset_at: '2026-01-01T00:01:00.000Z' },
  },
  QUOTA_EXCEEDED: { message: 'Quota of 1000 requests for this monthly period exhausted' },
  INTERNAL_ERROR: { message: 'Internal server error' },
  SERVICE_UNAVAILABLE: {
    message: 'A dependency is unavailable; retry later',
  },
  TIMEOUT: { message: 'The request did not complete within 30 s' },
};

/** The codes a status answers with (each code has one status: ERROR_STATUS). */
export function codesOfStatus(status: number): ErrorCode[] {
  return ERROR_CODES.filter((code) => Number(ERROR_STATUS[code]) === status);
}

function errorExamples(codes: ErrorCode[]): Record<string, { value: unknown }> {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      {
        value: {
          error: {
            code,
            message: ERROR_EXAMPLES[code].message,
            details: ERROR_EXAMPLES[code].details ?? null,
            request_id: '0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11',
          },
        },
      },
    ]),
  );
}

const integerHeader = (description: string) => ({
  description,
  schema: { type: 'integer', format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
});
const textHeader = (description: string, example: string) => ({
  description,
  schema: { type: 'string', maxLength: 1024, example },
});

/**
 * The headers of a response that passed the rate limiter (rate-limit.guard.ts), sent on every
 * response to a request made with a credential once it was counted: the deciding window's
 * X-RateLimit-*, the IETF RateLimit-Policy and RateLimit fields, and X-Quota-* when a quota
 * applies. Retry-After comes with 429 and 503.
 */
const HEADERS = {
  'X-RateLimit-Limit': integerHeader('Requests allowed in the deciding window'),
  'X-RateLimit-Remaining': integerHeader('Requests left in the deciding window'),
  'X-RateLimit-Reset': integerHeader('When the deciding window resets, in Unix epoch seconds'),
  'X-RateLimit-Window': integerHeader('Length of the deciding window, in seconds'),
  'RateLimit-Policy': textHeader(
    'IETF RateLimit-Policy: every window enforced for this caller',
    '"key-minute";q=100;w=60',
  ),
  RateLimit: textHeader(
    'IETF RateLimit: the deciding window, its remaining requests and seconds to reset',
    '"key-minute";r=99;t=42',
  ),
  'X-Quota-Limit': integerHeader('Requests allowed in the quota period (when a quota applies)'),
  'X-Quota-Remaining': integerHeader('Requests left in the quota period'),
  'X-Quota-Reset': integerHeader('When the quota period ends, in Unix epoch seconds'),
};
const RETRY_AFTER = { 'Retry-After': integerHeader('Seconds to wait before retrying') };
/** Sent on every response to a browser request from an origin CORS_ORIGINS allows. */
const CORS = {
  'Access-Control-Allow-Origin': textHeader(
    'The requesting origin, when CORS_ORIGINS allows it',
    'https://app.example.com',
  ),
};
const headerRefs = (names: string[]) =>
  Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));

/** Statuses answered before the rate limiter counted the request, so without its headers. */
const BEFORE_LIMITER = new Set(['401', '410']);

/** Codes answered for requests no operation takes: a method the path does not have. */
const NOT_FROM_OPERATIONS = new Set<ErrorCode>(['METHOD_NOT_ALLOWED']);

const SERVER_ERRORS: Record<string, string> = {
  '500': 'INTERNAL_ERROR: an unexpected failure (the request_id finds it in the logs)',
  '503':
    'SERVICE_UNAVAILABLE: Postgres or Redis is unavailable (Retry-After may say when to retry)',
};

/** What IdempotencyInterceptor adds to a POST: the header, and its 409 and 422. */
function documentIdempotency(operation: OperationObject): void {
  operation.parameters = [
    ...(operation.parameters ?? []),
    {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Replays the first response to a retry with the same key and body for 24 h (X-Idempotency-Key is accepted too)',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: KEY_PATTERN.source },
    },
  ];
  operation.responses['409'] ??= {
    description: 'CONFLICT: a request with this Idempotency-Key is still running',
  };
  operation.responses['422'] ??= {
    description: 'IDEMPOTENCY_KEY_REUSED: this Idempotency-Key came with another request',
  };
}

/**
 * Gives every operation the shared error schema: a `default` error response, and the error
 * body on each 4xx/5xx a route declares without one, so clients can generate one error type,
 * with one example per code that status answers with. Also the responses the guard chain can
 * give on any route it covers: 410 on every versioned route (a sunset version), 429 on every
 * route that takes a credential (limits and quotas), 500 and 503 everywhere; and the
 * rate-limit headers on the responses of routes that take a credential.
 */
function withSharedResponses(document: OpenAPIObject): OpenAPIObject {
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (operation === undefined) continue;
      const limited = (operation.security ?? []).some((s) => Object.keys(s).length > 0);
      if (/^\/api\/v\d+\//.test(path))
        operation.responses['410'] ??= { description: 'API_VERSION_SUNSET' };
      if (limited)
        operation.responses['429'] ??= {
          description:
            'RATE_LIMIT_EXCEEDED or QUOTA_EXCEEDED, with Retry-After (and 503 SERVICE_UNAVAILABLE when RATE_LIMIT_FAILURE_MODE=closed and Redis is down)',
        };
      if (method === 'post' && !(IDEMPOTENCY_IGNORED in operation)) documentIdempotency(operation);
      // Refused on any route before it runs (src/common/http-app.ts).
      operation.responses['400'] ??= {
        description:
          'VALIDATION_ERROR: a malformed request (a bad URL, more than 50 query parameters, a NUL character)',
      };
      for (const [status, description] of Object.entries(SERVER_ERRORS)) {
        operation.responses[status] ??= { description };
      }
      const documented = new Set(Object.keys(operation.responses).map(Number));
      operation.responses.default ??= {
        description:
          'Any other error, in the same body (e.g. 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 504 TIMEOUT)',
        content: {
          'application/json': {
            schema: ERROR_REF,
            examples: errorExamples(
              ERROR_CODES.filter(
                (code) => !documented.has(ERROR_STATUS[code]) && !NOT_FROM_OPERATIONS.has(code),
              ),
            ),
          },
        },
      };
      for (const [status, response] of Object.entries(operation.responses)) {
        if (response === undefined || !('description' in response)) continue;
        if (/^[45]\d\d$/.test(status)) {
          const examples = errorExamples(codesOfStatus(Number(status)));
          const json = response.content?.['application/json'] ?? { schema: ERROR_REF };
          response.content = { 'application/json': { ...json, examples } };
        }
        const headers = {
          ...headerRefs(Object.keys(CORS)),
          ...(limited && /^[24]/.test(status) && !BEFORE_LIMITER.has(status)
            ? headerRefs(Object.keys(HEADERS))
            : {}),
          ...(status === '429' || status === '503' ? headerRefs(Object.keys(RETRY_AFTER)) : {}),
        };
        response.headers = { ...response.headers, ...headers };
      }
    }
  }
  document.components = {
    ...document.components,
    headers: { ...HEADERS, ...RETRY_AFTER, ...CORS },
  };
  return document;
}

type SchemaNode = Record<string, unknown>;

/**
 * Bodies are validated with whitelist + forbidNonWhitelisted (src/common/validation.ts), so
 * an unknown field is a 400: every object schema a request body reaches, through properties,
 * items and compositions, says `additionalProperties: false`.
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaNode>;
  const closed = new Set<SchemaNode>();
  const close = (node: unknown): void => {
    if (typeof node !== 'object' || node === null || closed.has(node as SchemaNode)) return;
    const schema = node as SchemaNode;
    closed.add(schema);
    if (typeof schema.$ref === 'string') {
      close(schemas[schema.$ref.replace('#/components/schemas/', '')]);
      return;
    }
    if (schema.properties !== undefined) {
      schema.additionalProperties ??= false;
      Object.values(schema.properties as SchemaNode).forEach(close);
    }
    close(schema.items);
    close(schema.additionalProperties);
    for (const key of ['allOf', 'oneOf', 'anyOf'])
      (schema[key] as unknown[] | undefined)?.forEach(close);
  };
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      const body = pathItem[method]?.requestBody;
      if (body !== undefined && 'content' in body) close(body.content['application/json']?.schema);
    }
  }
}

/**
 * Puts each JSON request body's example (@ApiRequestExample on its DTO) on the operation, which
 * /docs shows and pre-fills instead of a sample made up from the properties' examples (that
 * would send every optional field at once). An operation whose body has none fails the build.
 */
function withRequestExamples(document: OpenAPIObject): OpenAPIObject {
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const body = pathItem[method]?.requestBody;
      const json =
        body !== undefined && 'content' in body ? body.content['application/json'] : undefined;
      if (json?.schema === undefined || !('$ref' in json.schema)) continue;
      const name = json.schema.$ref.split('/').pop() ?? '';
      const example = requestExampleOf(name);
      if (example === undefined) {
        throw new Error(`${method.toUpperCase()} ${path}: ${name} has no @ApiRequestExample`);
      }
      json.example = example;
    }
  }
  return document;
}

const INTRODUCTION = `API management backend: organizations, users, projects, API keys with exact rate limits and quotas, usage analytics, signed webhooks, API versions, an audit trail and Sentry-compatible error ingestion.

## Authenticate
- **As a user**: \`POST /api/v1/auth/register\` with a username, email and password (this also creates your organization, with you as its owner), then \`POST /api/v1/auth/login\` with \`{"login": <username or email>, "password": ...}\`. Copy \`access_token\` from the answer, click **Authorize** and paste it under \`bearer\`. It lasts 15 minutes; \`POST /api/v1/auth/refresh\` with the \`refresh_token\` gives a new pair.
- **As a service**: with a user token, \`POST /api/v1/keys\` creates an API key; its secret (\`sk_live_...\` or \`sk_test_...\`) is shown once. Send it as the \`X-API-Key\` header (under \`api_key\` in **Authorize**), never as a bearer token. A key may do what its \`permissions\` allow; each operation names the permission it needs (\`x-required-permission\`).

## Errors
Every error, whatever the status, has one body: \`{"error": {"code", "message", "details", "request_id"}}\`. \`code\` is stable and tells what happened (each code has one status); \`details\` is a list of \`{field, message}\` for \`VALIDATION_ERROR\` and code-specific otherwise; \`request_id\` is also the \`X-Request-Id\` response header. Unknown fields in a body are a 400. A method a path does not have is a 405 \`METHOD_NOT_ALLOWED\` with an \`Allow\` header.

## Rate limits and quotas
Requests made with a credential are counted against the key's, the organization's and the platform's limits. Every counted response carries \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\`, \`X-RateLimit-Reset\` (Unix epoch seconds) and \`X-RateLimit-Window\` (seconds) for the window closest to its limit, the IETF \`RateLimit-Policy\` and \`RateLimit\` fields, and \`X-Quota-*\` when a quota applies. A full window is 429 \`RATE_LIMIT_EXCEEDED\`, a spent quota 429 \`QUOTA_EXCEEDED\`, both with \`Retry-After\` in seconds. \`GET /api/v1/rate-limits/explain\` shows what applies to a caller.

## Idempotency
Any POST may carry an \`Idempotency-Key\` header (1-255 printable ASCII characters): a retry with the same key and body within 24 hours gets the first response back, with \`Idempotent-Replayed: true\`; the same key with another body is 422 \`IDEMPOTENCY_KEY_REUSED\`; a retry while the first is still running is 409.

## Pagination
Lists take \`?limit\` (1-100, default 20) and \`?offset\` (from 0) and answer \`{"data": [...], "total", "limit", "offset"}\`. Single resources answer \`{"data": {...}}\`.`;

const TAGS: [name: string, description: string][] = [
  [
    'auth',
    'Register, log in, refresh and revoke tokens; your own account; invitations and password resets',
  ],
  ['users', "The users of the caller's organization"],
  ['organizations', 'Organizations and their members, roles and rate limits'],
  ['projects', "The organization's projects, each with a Sentry-compatible DSN"],
  [
    'keys',
    'API keys: create (the secret is shown once), rotate, revoke, and verify a key your own API received',
  ],
  ['quotas', 'Request quotas per period, for an organization or one key'],
  ['rate-limits', 'Platform rate limits, and what applies to a caller (explain)'],
  ['versions', 'API versions and their lifecycle: released, deprecated, sunset'],
  [
    'analytics',
    'Usage: requests, errors and latency percentiles per interval (from rollups), and the raw usage log',
  ],
  ['audit', 'Who changed what, when and from where'],
  [
    'envelopes',
    "Sentry-compatible error ingestion: point an unmodified Sentry SDK at a project's DSN",
  ],
  ['index', 'Where to start: links to the docs, this document, health and the versions'],
  ['health', 'Liveness and readiness (outside /api)'],
];

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Gatehouse API')
    .setDescription(INTRODUCTION)
    .setVersion('1')
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
        description: 'An API key secret (sk_live_... or sk_test_...), from POST /api/v1/keys',
      },
      'api_key',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'The access_token of POST /api/v1/auth/login. JWTs follow RFC8725: HS256 only, issuer, audience and expiry checked, signing key chosen by kid.',
      },
      'bearer',
    );
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const config = builder.build();
  documentValidationBounds();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorResponseDto, FieldErrorDto],
  });
  closeRequestBodies(document);
  return withSharedResponses(withRequestExamples(document));
}

/** Swagger UI at /docs and the document at /openapi.json, outside the /api prefix. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    useGlobalPrefix: false,
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'Gatehouse API docs',
  });
}
