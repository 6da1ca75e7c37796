import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { WebhookEventType } from './webhook-events.js';
import { EMIT_ONCE, FAILING_ENDPOINTS, KEYS_EXPIRING_OR_EXPIRED } from './webhook-lifecycle.sql.js';

/** A lifecycle event for one organization, sent once per `dedupeKey` ever. */
export interface LifecycleEvent {
  dedupeKey: string;
  organizationId: string;
  type: WebhookEventType;
  payload: Record<string, unknown>;
}

export interface ExpiringKeyRow {
  id: string;
  organization_id: string;
  name: string;
  prefix: string;
  expires_at: Date;
}

export interface VersionRow {
  version: string;
  status: 'beta' | 'stable' | 'deprecated' | 'sunset';
  deprecated_at: Date | null;
  sunset_date: Date | null;
  migration_guide_url: string | null;
}

/**
 * What the lifecycle job reads and writes. Platform-wide by design (it looks at every
 * organization's keys and endpoints); each event it writes names its organization.
 */
@Injectable()
export class WebhookLifecycleRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Writes the events not written before (by dedupe key); how many were new. */
  async emitOnce(events: LifecycleEvent[], now: Date): Promise<number> {
    if (events.length === 0) return 0;
    const rows = events.map((e) => ({
      dedupe_key: e.dedupeKey,
      organization_id: e.organizationId,
      type: e.type,
      payload: e.payload,
    }));
    const [, written] = await this.dataSource.query<[unknown, number]>(EMIT_ONCE, [
      JSON.stringify(rows),
      now,
    ]);
    return written;
  }

  keysAround(now: Date, aheadDays: number, backDays: number): Promise<ExpiringKeyRow[]> {
    return this.dataSource.query<ExpiringKeyRow[]>(KEYS_EXPIRING_OR_EXPIRED, [
      now,
      `${aheadDays} days`,
      `${backDays} days`,
    ]);
  }

  versions(): Promise<VersionRow[]> {
    return this.dataSource.query<VersionRow[]>(
      `SELECT version, status, deprecated_at, sunset_date, migration_guide_url FROM api_versions
       ORDER BY version`,
    );
  }

  failingEndpoints(
    now: Date,
    streakDays: number,
  ): Promise<{ id: string; organization_id: string; first_failure: Date }[]> {
    return this.dataSource.query(FAILING_ENDPOINTS, [now, `${streakDays} days`]);
  }
}
