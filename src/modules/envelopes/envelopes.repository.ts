import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { INSERT_ENVELOPE } from './envelope-insert.sql.js';

/** One envelope as stored (see the AddEnvelopesAndEvents migration for the columns). */
export interface StoredEnvelope {
  id: string;
  organizationId: string;
  projectId: number;
  /** The envelope's event_id as a dashed UUID, or null. */
  eventId: string | null;
  /** The decoded envelope, gzip-compressed. */
  body: Buffer;
  bodyBytes: number;
  itemCount: number;
}

@Injectable()
export class EnvelopesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Durable when it resolves: the envelope and its pending row are committed together. */
  async insert(envelope: StoredEnvelope): Promise<void> {
    await this.dataSource.query(INSERT_ENVELOPE, [
      envelope.id,
      envelope.organizationId,
      envelope.projectId,
      envelope.eventId,
      envelope.body,
      envelope.bodyBytes,
      envelope.itemCount,
    ]);
  }
}
