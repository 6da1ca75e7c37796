import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GroupCommit } from '../../database/group-commit.js';
import { insertEnvelopes } from './envelope-insert.sql.js';

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

/**
 * Inserts running at once: a few of the pool's connections (DATABASE_POOL_SIZE, 10 by
 * default), the rest left to everything else the api does; envelopes that arrive meanwhile
 * wait and go in the next insert together.
 */
export const ENVELOPE_INSERTS_IN_FLIGHT = 4;
/** The most envelopes in one insert (7 parameters each), and their most compressed bytes. */
export const ENVELOPE_INSERT_MAX_ROWS = 100;
export const ENVELOPE_INSERT_MAX_BYTES = 8 * 1024 * 1024;

@Injectable()
export class EnvelopesRepository {
  private readonly inserts = new GroupCommit<StoredEnvelope>({
    write: (envelopes) => this.insertAll(envelopes),
    maxInFlight: ENVELOPE_INSERTS_IN_FLIGHT,
    maxRows: ENVELOPE_INSERT_MAX_ROWS,
    maxBytes: ENVELOPE_INSERT_MAX_BYTES,
    bytesOf: (envelope) => envelope.body.length,
  });

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Durable when it resolves: the envelope and its pending row are committed together (with
   * the envelopes of other requests that arrived at the same time: one commit for all).
   */
  insert(envelope: StoredEnvelope): Promise<void> {
    return this.inserts.add(envelope);
  }

  private async insertAll(envelopes: StoredEnvelope[]): Promise<void> {
    await this.dataSource.query(
      insertEnvelopes(envelopes.length),
      envelopes.flatMap((envelope) => [
        envelope.id,
        envelope.organizationId,
        envelope.projectId,
        envelope.eventId,
        envelope.body,
        envelope.bodyBytes,
        envelope.itemCount,
      ]),
    );
  }
}
