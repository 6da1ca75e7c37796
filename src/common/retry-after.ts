/** Whole seconds until `untilMs`, at least 1: what a 429's Retry-After says. */
export function retryAfterSeconds(untilMs: number, nowMs: number): number {
  return Math.max(Math.ceil((untilMs - nowMs) / 1000), 1);
}
