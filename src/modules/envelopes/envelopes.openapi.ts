import { applyDecorators } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { EnvelopeAcceptedResponse } from './envelopes.dto.js';

/** A small envelope as an SDK sends it: header, one event item without `length`. */
export const EXAMPLE_ENVELOPE =
  '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-01-01T00:00:00.000Z"}\n' +
  '{"type":"event"}\n' +
  '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","level":"error","platform":"node","message":"Something broke"}\n';

const EXAMPLE_KEY = '5f0c8a3e9b1d4c7e8f2a6b3c9d0e1f2a';

const DESCRIPTION = `The endpoint of a project's DSN (\`https://{public_key}@{host}/{project_id}\`): Sentry SDKs send their envelopes here (https://develop.sentry.dev/sdk/data-model/envelopes/), unchanged. Also at \`/api/v1/{project_id}/envelope/\`.

- **Body**: the envelope, with any or no \`Content-Type\`, optionally compressed (\`Content-Encoding\`: gzip, deflate, br). Items with or without \`length\`, the last with or without a final newline; unknown item types are kept.
- **Authentication**: the DSN's public key as \`X-Sentry-Auth: Sentry sentry_key={public_key}, sentry_version=7\`, or the \`sentry_key\` query parameter, or the \`dsn\` field of the envelope header. Not the API's bearer token or API key.
- **Limits**: body 20 MB as sent (a \`Content-Length\` over it is refused before the body is read), envelope 100 MB decompressed, one event item 1 MB, 100 items, a brotli window of 4 MB (WBITS 22, the compressors' default; a body declaring a larger one is refused before it is decoded) (413 \`PAYLOAD_TOO_LARGE\`). The project's \`ingest_rate_limit\` (default 1,000 per minute): 429 with \`Retry-After\` and \`X-Sentry-Rate-Limits\`.
- **Answer**: 200 once the envelope is stored; events are extracted from it asynchronously.`;

const SENTRY_RATE_LIMITS = {
  'X-Sentry-Rate-Limits': {
    description:
      "Sentry's rate-limit header, `<retry_after>:<categories>:<scope>:<reason_code>`; empty categories mean all",
    schema: { type: 'string', maxLength: 100, example: '60::project:project_quota' },
  },
};

/** The OpenAPI description of POST /api/{project_id}/envelope/. */
export function ApiEnvelopeIngest() {
  return applyDecorators(
    ApiTags('envelopes'),
    ApiOperation({ summary: 'Ingest a Sentry envelope', description: DESCRIPTION }),
    ApiConsumes('application/x-sentry-envelope'),
    ApiBody({
      description: 'The envelope (newline-delimited JSON headers and payloads)',
      // 20 MB as sent (a 413: by Content-Length in raw-body.ts, while streaming in decoded-body.ts)
      schema: {
        type: 'string',
        format: 'binary',
        maxLength: 20_971_520,
        example: EXAMPLE_ENVELOPE,
      },
    }),
    ApiHeader({
      name: 'X-Sentry-Auth',
      required: false,
      description: 'Sentry sentry_key={public_key}, sentry_version=7[, sentry_client=...]',
      // Bounded by Node's 16 KB limit on all of a request's headers.
      schema: {
        type: 'string',
        maxLength: 16_384,
        example: `Sentry sentry_key=${EXAMPLE_KEY}, sentry_version=7`,
      },
    }),
    ApiHeader({
      name: 'Content-Encoding',
      required: false,
      schema: { type: 'string', enum: ['identity', 'gzip', 'deflate', 'br'] },
    }),
    ApiQuery({
      name: 'sentry_key',
      required: false,
      description: "The DSN's public key (when X-Sentry-Auth is not sent)",
      schema: { type: 'string', example: EXAMPLE_KEY, maxLength: 128 },
    }),
    ApiOkResponse({ type: EnvelopeAcceptedResponse, description: 'Stored' }),
    ApiResponse({
      status: 400,
      description: 'VALIDATION_ERROR: a malformed envelope (details.reason says what)',
    }),
    ApiResponse({
      status: 401,
      description: "AUTHENTICATION_FAILED: no key, or not the project's public key",
    }),
    ApiResponse({ status: 404, description: 'RESOURCE_NOT_FOUND: no project with this id' }),
    ApiResponse({
      status: 413,
      description:
        'PAYLOAD_TOO_LARGE: over a limit, or a brotli body declaring a window over 4 MB (details.reason says which)',
    }),
    ApiResponse({
      status: 415,
      description: 'UNSUPPORTED_MEDIA_TYPE: a Content-Encoding other than gzip, deflate or br',
    }),
    ApiResponse({
      status: 429,
      description: "RATE_LIMIT_EXCEEDED: over the project's ingest_rate_limit",
      headers: SENTRY_RATE_LIMITS,
    }),
  );
}
