import { Injectable, Logger } from '@nestjs/common';
import { VersionCalls } from '../analytics/version-calls.js';
import { lifecycleOf } from '../versions/version-lifecycle.js';
import { WebhookDispatchRepository } from './webhook-dispatch.repository.js';
import {
  type LifecycleEvent,
  type VersionRow,
  WebhookLifecycleRepository,
} from './webhook-lifecycle.repository.js';

const DAY_MS = 86_400_000;
/** `api_key.expiring` this many days before expires_at (the nearest one not yet passed). */
export const KEY_EXPIRING_DAYS = [7, 1] as const;
/** `api_version.sunset_approaching` this many days before sunset_date. */
export const SUNSET_APPROACHING_DAYS = [30, 7] as const;
/** Organizations whose keys called a version within this many days hear about it. */
export const VERSION_CALLERS_DAYS = 30;
/** An expiry further back than this is not announced (a first run on old data stays quiet). */
const EXPIRED_LOOKBACK_DAYS = 7;
/** An endpoint whose every attempt has failed for this long is disabled. */
export const FAILING_STREAK_DAYS = 5;

export interface LifecycleRun {
  disabledEndpoints: number;
  events: number;
}

/** The threshold (in days before `at`) that `now` is within, the smallest one reached. */
function reached(thresholds: readonly number[], at: Date, now: Date): number | null {
  const left = at.getTime() - now.getTime();
  const within = thresholds.filter((days) => left <= days * DAY_MS);
  return within.length === 0 ? null : Math.min(...within);
}

/**
 * The lifecycle events no request causes, from a scheduled worker job (every 10 minutes): keys
 * expiring and expired, versions deprecated and nearing their sunset (to the organizations
 * whose keys called them in the last 30 days, with per-key call counts), and endpoints
 * failing for 5 days disabled. Each event is recorded by a key naming what it is about, so a
 * re-run (or two workers at once) never sends it twice.
 */
@Injectable()
export class WebhookLifecycle {
  private readonly logger = new Logger('WebhookLifecycle');

  constructor(
    private readonly lifecycle: WebhookLifecycleRepository,
    private readonly dispatch: WebhookDispatchRepository,
    private readonly versionCalls: VersionCalls,
  ) {}

  async run(now: Date = new Date()): Promise<LifecycleRun> {
    const disabledEndpoints = await this.disableFailing(now);
    const events =
      (await this.lifecycle.emitOnce(await this.keyEvents(now), now)) +
      (await this.lifecycle.emitOnce(await this.versionEvents(now), now));
    if (disabledEndpoints > 0 || events > 0)
      this.logger.log({ msg: 'webhook lifecycle', disabledEndpoints, events });
    return { disabledEndpoints, events };
  }

  /** Disables endpoints failing for FAILING_STREAK_DAYS (audit entry and event with each). */
  private async disableFailing(now: Date): Promise<number> {
    let disabled = 0;
    for (const row of await this.lifecycle.failingEndpoints(now, FAILING_STREAK_DAYS)) {
      const scope = { organizationId: row.organization_id };
      if (await this.dispatch.disable(scope, row.id, 'failing')) disabled++;
    }
    return disabled;
  }

  private async keyEvents(now: Date): Promise<LifecycleEvent[]> {
    const keys = await this.lifecycle.keysAround(
      now,
      Math.max(...KEY_EXPIRING_DAYS),
      EXPIRED_LOOKBACK_DAYS,
    );
    return keys.flatMap((key): LifecycleEvent[] => {
      const expiresAt = new Date(key.expires_at);
      const base = {
        organizationId: key.organization_id,
        payload: {
          api_key_id: key.id,
          name: key.name,
          prefix: key.prefix,
          expires_at: expiresAt.toISOString(),
        },
      };
      const at = expiresAt.getTime();
      if (at <= now.getTime()) {
        return [{ ...base, type: 'api_key.expired', dedupeKey: `api_key.expired:${key.id}:${at}` }];
      }
      const days = reached(KEY_EXPIRING_DAYS, expiresAt, now);
      if (days === null) return [];
      return [
        {
          ...base,
          type: 'api_key.expiring',
          dedupeKey: `api_key.expiring:${key.id}:${days}:${at}`,
          payload: { ...base.payload, days_before: days },
        },
      ];
    });
  }

  private async versionEvents(now: Date): Promise<LifecycleEvent[]> {
    const events: LifecycleEvent[] = [];
    for (const version of await this.lifecycle.versions()) {
      const lifecycle = lifecycleOf({
        status: version.status,
        deprecatedAt: version.deprecated_at && new Date(version.deprecated_at),
        sunsetDate: version.sunset_date && new Date(version.sunset_date),
        migrationGuideUrl: version.migration_guide_url,
      });
      const nowMs = now.getTime();
      if (lifecycle.sunsetFromMs !== null && lifecycle.sunsetFromMs <= nowMs) continue;
      const deprecated = lifecycle.deprecatedFromMs !== null && lifecycle.deprecatedFromMs <= nowMs;
      const sunsetDays =
        version.sunset_date === null
          ? null
          : reached(SUNSET_APPROACHING_DAYS, new Date(version.sunset_date), now);
      if (!deprecated && sunsetDays === null) continue;
      const callers = await this.callers(version.version, now);
      for (const [organizationId, calls] of callers) {
        const payload = { ...this.describe(version), calls };
        if (deprecated) {
          events.push({
            organizationId,
            type: 'api_version.deprecated',
            dedupeKey: `api_version.deprecated:${version.version}:${organizationId}`,
            payload,
          });
        }
        if (sunsetDays !== null && version.sunset_date !== null) {
          const sunsetMs = new Date(version.sunset_date).getTime();
          events.push({
            organizationId,
            type: 'api_version.sunset_approaching',
            dedupeKey: `api_version.sunset_approaching:${version.version}:${sunsetDays}:${sunsetMs}:${organizationId}`,
            payload: { ...payload, days_before: sunsetDays },
          });
        }
      }
    }
    return events;
  }

  /** Organization id -> its keys' calls to `version` in the last 30 days. */
  private async callers(
    version: string,
    now: Date,
  ): Promise<Map<string, { api_key_id: string; requests: number }[]>> {
    const since = new Date(now.getTime() - VERSION_CALLERS_DAYS * DAY_MS);
    const byOrganization = new Map<string, { api_key_id: string; requests: number }[]>();
    for (const row of await this.versionCalls.callsByKey(version, since)) {
      const calls = byOrganization.get(row.organization_id) ?? [];
      calls.push({ api_key_id: row.api_key_id, requests: Number(row.requests) });
      byOrganization.set(row.organization_id, calls);
    }
    return byOrganization;
  }

  private describe(version: VersionRow): Record<string, unknown> {
    const iso = (at: Date | null) => (at === null ? null : new Date(at).toISOString());
    return {
      version: version.version,
      status: version.status,
      deprecated_at: iso(version.deprecated_at),
      sunset_date: iso(version.sunset_date),
      migration_guide_url: version.migration_guide_url,
    };
  }
}
