import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { type IngestProject, IngestProjects } from '../projects/ingest-projects.js';
import { decodedBody } from './decoded-body.js';
import { type ParsedEnvelope, parseEnvelope } from './envelope-parser.js';
import { EnvelopeIngestErrors } from './envelopes.errors.js';
import { EnvelopesRepository } from './envelopes.repository.js';
import { gzipCopy } from './gzip-copy.js';
import { IngestLimiter } from './ingest-limiter.js';
import { keyOfDsn } from './sentry-auth.js';
import { asUuid } from '../events/event-fields.js';

/** What the ingest route hands over: the body unread, and the key sent outside it, if any. */
export interface EnvelopeRequest {
  projectId: number;
  /** From X-Sentry-Auth or the sentry_key query parameter. */
  sentKey: string | undefined;
  contentEncoding: string | undefined;
  /** Undefined for a request without a body. */
  body: Readable | undefined;
}

/** Sentry's answer: the event id as 32 lowercase hex digits. */
export interface EnvelopeAccepted {
  id: string;
}

@Injectable()
export class EnvelopesService {
  constructor(
    private readonly projects: IngestProjects,
    private readonly limiter: IngestLimiter,
    private readonly envelopes: EnvelopesRepository,
  ) {}

  /**
   * Authenticates, limits, reads and stores one envelope; resolves once it is committed. A key
   * sent in a header or the query is checked (and the envelope counted) before a byte of the
   * body is read; only a DSN in the envelope header needs the body read first.
   */
  async ingest(request: EnvelopeRequest): Promise<EnvelopeAccepted> {
    const project = await this.projects.find(request.projectId);
    if (project === null) throw EnvelopeIngestErrors.unknownProject();
    if (request.sentKey !== undefined) {
      checkKey(project, request.sentKey);
      await this.limiter.admit(project);
    }
    const raw = request.body ?? Readable.from([]);
    const { body, gzipped } = gzipCopy(await decodedBody(raw, request.contentEncoding));
    // Checked whole, but nothing of it kept: the stored copy is gzipCopy's.
    const envelope = await parseEnvelope(body, undefined, 'scan');
    if (request.sentKey === undefined) {
      if (envelope.dsn === undefined) throw EnvelopeIngestErrors.missingKey();
      checkKey(project, keyOfDsn(envelope.dsn, project.id));
      await this.limiter.admit(project);
    }
    const id = randomUUID();
    await this.envelopes.insert({
      id,
      organizationId: project.organizationId,
      projectId: project.id,
      eventId: asUuid(envelope.eventId) ?? null,
      body: await gzipped(),
      bodyBytes: envelope.size,
      itemCount: envelope.items.length,
    });
    return { id: answerId(envelope, id) };
  }
}

function checkKey(project: IngestProject, key: string | undefined): void {
  const expected = Buffer.from(project.publicKey);
  const sent = Buffer.from(key ?? '');
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw EnvelopeIngestErrors.wrongKey();
  }
}

/** The envelope's event id (header, else its first event's), else the envelope's own id. */
function answerId(envelope: ParsedEnvelope, envelopeId: string): string {
  return envelope.eventId ?? envelopeId.replaceAll('-', '');
}

/** 32 hex digits as a UUID's 8-4-4-4-12. */
