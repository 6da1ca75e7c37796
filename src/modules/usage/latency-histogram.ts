/**
 * The usage rollups' latency histogram: fixed log-scale buckets, the same in every row, so
 * histograms add bucket by bucket (a column each) and percentiles are read from a sum of
 * them without the raw rows.
 *
 * Bucket 0 holds (0, 0.5 ms]; bucket i (1..53) holds (0.5 * 1.25^(i-1), 0.5 * 1.25^i] ms, up
 * to 68.4 s; bucket 54 holds everything slower. A percentile is read as the geometric middle
 * of its bucket (clamped to the largest latency seen), so between 0.5 ms and 68.4 s it is
 * within a factor sqrt(1.25) of the true value: at most 11.8% too high or 10.6% too low.
 * Below 0.5 ms it is off by at most 0.5 ms; above 68.4 s it is the maximum seen.
 */
export const HISTOGRAM_BUCKETS = 55;
const SMALLEST_MS = 0.5;
const GROWTH = 1.25;
const LAST = HISTOGRAM_BUCKETS - 1;

/** The rollups' histogram columns, bucket 0 first (latency_h00..latency_h54). */
export const HISTOGRAM_COLUMNS: readonly string[] = Array.from(
  { length: HISTOGRAM_BUCKETS },
  (_, i) => `latency_h${String(i).padStart(2, '0')}`,
);

/** The bucket of one latency, as SQL: the same arithmetic as bucketOf, over `ms` (real). */
export const HISTOGRAM_BUCKET_SQL = (ms: string): string =>
  `least(greatest(ceil(ln(greatest(${ms}, 1e-6) / ${SMALLEST_MS}) / ln(${GROWTH}) - 1e-9), 0), ${LAST})::int`;

/** The bucket of one latency (ms); the slight tolerance keeps exact bounds in their bucket. */
export function bucketOf(ms: number): number {
  const index = Math.ceil(Math.log(Math.max(ms, 1e-6) / SMALLEST_MS) / Math.log(GROWTH) - 1e-9);
  return Math.min(Math.max(index, 0), LAST);
}

/** Upper bound of bucket i in ms (Infinity for the last). */
export function upperBoundOf(index: number): number {
  return index >= LAST ? Infinity : SMALLEST_MS * GROWTH ** index;
}

/** Adds `other` into `sum`, element by element. */
export function addHistogram(sum: number[], other: readonly number[]): void {
  for (let i = 0; i < HISTOGRAM_BUCKETS; i += 1) sum[i] = (sum[i] ?? 0) + (other[i] ?? 0);
}

export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_BUCKETS).fill(0);
}

/**
 * The q-quantile (0 < q <= 1, nearest rank) of the latencies a histogram counts, in ms, or
 * null when it counts none. Never above `maxMs`, the largest latency seen.
 */
export function percentileOf(
  histogram: readonly number[],
  q: number,
  maxMs: number,
): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i += 1) {
    seen += histogram[i] ?? 0;
    if (seen < rank) continue;
    if (i === LAST) return maxMs;
    const middle = i === 0 ? SMALLEST_MS / 2 : upperBoundOf(i) / Math.sqrt(GROWTH);
    return Math.min(middle, maxMs);
  }
  return maxMs;
}
