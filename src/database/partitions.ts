/** `FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00')` -> its upper end. */
export function partitionUpperBound(bound: string): Date | null {
  const match = /TO \('([^']+)'\)/.exec(bound);
  return match?.[1] === undefined ? null : new Date(match[1]);
}
