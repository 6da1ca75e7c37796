/**
 * When a failed delivery is tried again, after each failure: immediately, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h and 10 h, so an endpoint gets 9 attempts over about 28 hours.
 */
export const RETRY_DELAYS_MS = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];
export const DELIVERY_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** Each delay is moved by up to this fraction either way, so retries of many events spread. */
const JITTER = 0.1;
export const WEBHOOK_BACKOFF = 'webhook';

/**
 * BullMQ's custom backoff for delivery jobs: the delay before the next attempt after
 * `attemptsMade` attempts (1 after the first failure); -1 (no more) past the schedule.
 */
export function webhookBackoff(attemptsMade: number, random: () => number = Math.random): number {
  const delay = RETRY_DELAYS_MS[attemptsMade - 1];
  if (delay === undefined) return -1;
  return Math.round(delay * (1 + JITTER * (2 * random() - 1)));
}
