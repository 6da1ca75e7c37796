import { Injectable } from '@nestjs/common';
import { AnalyticsRepository, type VersionCallsRow } from './analytics.repository.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Who calls an API version, read from the usage rollups (every usage record carries its
 * api_version): for the version lifecycle, which tells the organizations whose keys called a
 * version before it is sunset.
 */
@Injectable()
export class VersionCalls {
  constructor(private readonly analytics: AnalyticsRepository) {}

  /**
   * Requests to `version` made with API keys since `since` (widened to its hour, UTC), per
   * organization and key, keys without requests absent. Reads the hour rollups for the rest
   * of since's day and the day rollups after it (both kept 13 months).
   */
  callsByKey(version: string, since: Date): Promise<VersionCallsRow[]> {
    const time = since.getTime();
    const hoursFrom = new Date(Math.floor(time / HOUR_MS) * HOUR_MS);
    const daysFrom = new Date(Math.ceil(time / DAY_MS) * DAY_MS);
    return this.analytics.versionCallsByKey(version, hoursFrom, daysFrom);
  }
}
