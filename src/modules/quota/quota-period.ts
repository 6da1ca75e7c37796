export const QUOTA_PERIODS = ['daily', 'monthly', 'custom'] as const;
export type QuotaPeriod = (typeof QUOTA_PERIODS)[number];

export interface QuotaSchedule {
  period: QuotaPeriod;
  /** Custom periods only: the first period's bounds; later periods follow back to back. */
  periodStartMs: number | null;
  periodEndMs: number | null;
}

export interface PeriodBounds {
  startMs: number;
  endMs: number;
}

/**
 * The period `nowMs` falls in. Daily and monthly periods are calendar days and months in
 * UTC. A custom period repeats: periods of the configured length, back to back, anchored at
 * its period_start (so a 30-day cycle from the 15th keeps resetting every 30 days).
 */
export function currentPeriod(schedule: QuotaSchedule, nowMs: number): PeriodBounds {
  const now = new Date(nowMs);
  if (schedule.period === 'daily') {
    const startMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    return { startMs, endMs: startMs + 86_400_000 };
  }
  if (schedule.period === 'monthly') {
    return {
      startMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
      endMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1),
    };
  }
  const anchor = schedule.periodStartMs ?? 0;
  const length = Math.max((schedule.periodEndMs ?? anchor + 1) - anchor, 1);
  const index = Math.floor((nowMs - anchor) / length);
  const startMs = anchor + index * length;
  return { startMs, endMs: startMs + length };
}
