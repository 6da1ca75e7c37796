import type { Readable } from 'node:stream';
import { Controller, HttpCode, Param, Post, Req, Res, VERSION_NEUTRAL } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../common/permissions.js';
import { RawBody, lingerThenClose } from '../../common/raw-body.js';
import { SkipIdempotency } from '../../common/idempotency.interceptor.js';
import { DEFAULT_ENVELOPE_LIMITS, bodyTooLarge } from './envelope-errors.js';
import { ApiEnvelopeIngest } from './envelopes.openapi.js';
import { EnvelopeAcceptedResponse, EnvelopeRouteParams } from './envelopes.dto.js';
import { EnvelopesService } from './envelopes.service.js';
import { keyOfAuthHeader, keyOfQuery } from './sentry-auth.js';

/**
 * Sentry's ingestion endpoint (API.md, Envelopes): a wire protocol, so it lives at
 * `/api/{project_id}/envelope/` (no version segment) and at the `/api/v1/...` alias, takes the
 * raw body whatever its Content-Type, and authenticates by the DSN's public key, not by the
 * API's credentials.
 */
@Controller({ version: [VERSION_NEUTRAL, '1'] })
export class EnvelopesController {
  constructor(private readonly envelopes: EnvelopesService) {}

  @Post(':project_id/envelope')
  @Public()
  @RawBody({
    maxBytes: DEFAULT_ENVELOPE_LIMITS.maxCompressedBytes,
    tooLarge: bodyTooLarge,
  })
  @SkipIdempotency()
  @HttpCode(200)
  @ApiEnvelopeIngest()
  async ingest(
    @Param() { project_id }: EnvelopeRouteParams,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EnvelopeAcceptedResponse> {
    try {
      return await this.envelopes.ingest({
        projectId: project_id,
        sentKey: keyOfAuthHeader(request.headers['x-sentry-auth']) ?? keyOfQuery(request.query),
        contentEncoding: request.headers['content-encoding'],
        body: request.body as Readable | undefined,
      });
    } catch (error) {
      // Refused before the body was read to its end (a limit, a key, a project): the rest of it
      // is dropped after the answer, for a while.
      lingerThenClose(request.raw, reply.raw);
      throw error;
    }
  }
}
