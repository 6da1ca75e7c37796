import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponseDto, FieldErrorDto } from './error-response.dto.js';

const ERROR_REF = { $ref: '#/components/schemas/ErrorResponseDto' };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Gives every operation the shared error schema: a `default` error response, and the error
 * body on each 4xx/5xx a route declares without one, so clients can generate one error type.
 * Also the responses the guard chain can give on any route it covers: 410 on every versioned
 * route (a sunset version), 429 on every route that takes a credential (limits and quotas).
 */
function withSharedErrors(document: OpenAPIObject): OpenAPIObject {
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (operation === undefined) continue;
      if (/^\/api\/v\d+\//.test(path))
        operation.responses['410'] ??= { description: 'API_VERSION_SUNSET' };
      if ((operation.security ?? []).length > 0)
        operation.responses['429'] ??= {
          description:
            'RATE_LIMIT_EXCEEDED or QUOTA_EXCEEDED, with Retry-After (and 503 SERVICE_UNAVAILABLE when RATE_LIMIT_FAILURE_MODE=closed and Redis is down)',
        };
      for (const [status, response] of Object.entries(operation.responses)) {
        if (
          response !== undefined &&
          /^[45]\d\d$/.test(status) &&
          'description' in response &&
          response.content === undefined
        ) {
          response.content = { 'application/json': { schema: ERROR_REF } };
        }
      }
      operation.responses.default ??= {
        description: 'Error (API.md error format)',
        content: { 'application/json': { schema: ERROR_REF } },
      };
    }
  }
  return document;
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Gatehouse API')
    .setDescription(
      'API management backend: organizations, users, projects, API keys with exact rate limits ' +
        'and quotas, usage analytics, signed webhooks, API versions, audit trail and ' +
        'Sentry-compatible error ingestion. Errors always use the ErrorResponseDto body.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api_key')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    extraModels: [ErrorResponseDto, FieldErrorDto],
  });
  return withSharedErrors(document);
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
