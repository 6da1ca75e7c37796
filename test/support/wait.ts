import { setTimeout as delay } from 'node:timers/promises';

export const sleep = (ms: number): Promise<void> => delay(ms);

/**
 * Retries `check` every 100 ms until it passes (and returns what it returned), or fails with
 * its last error after `ms`.
 */
export async function eventually<T>(check: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** Waits until this machine's clock is past `deadlineMs` (an expiry or grace period running out). */
export async function untilPast(deadlineMs: number): Promise<void> {
  await eventually(
    async () => {
      if (Date.now() <= deadlineMs)
        throw new Error(`still before ${new Date(deadlineMs).toISOString()}`);
      await Promise.resolve();
    },
    Math.max(deadlineMs - Date.now(), 0) + 10_000,
  );
}
