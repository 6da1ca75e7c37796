import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  HISTOGRAM_BUCKETS,
  addHistogram,
  bucketOf,
  emptyHistogram,
  percentileOf,
  upperBoundOf,
} from './latency-histogram.js';

function histogramOf(latencies: number[]): number[] {
  const histogram = emptyHistogram();
  for (const ms of latencies) histogram[bucketOf(ms)] = (histogram[bucketOf(ms)] ?? 0) + 1;
  return histogram;
}

function exactPercentile(latencies: number[], q: number): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? NaN;
}

describe('latency histogram', () => {
  it('has 55 buckets from 0.5 ms in 1.25x steps, bounds in their own bucket', () => {
    expect(HISTOGRAM_BUCKETS).toBe(55);
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(0.5)).toBe(0);
    expect(bucketOf(0.51)).toBe(1);
    expect(bucketOf(0.625)).toBe(1);
    expect(upperBoundOf(53)).toBeCloseTo(68_422.8, 0);
    expect(bucketOf(60_000)).toBe(53);
    expect(bucketOf(1e9)).toBe(54);
    for (let i = 0; i < 54; i += 1) expect(bucketOf(upperBoundOf(i))).toBe(i);
  });

  it('answers percentiles within a factor sqrt(1.25) between 0.5 ms and 68 s, never above the maximum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.5001, max: 68_000, noNaN: true }), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.constantFrom(0.5, 0.95, 0.99),
        (latencies, q) => {
          const max = Math.max(...latencies);
          const estimate = percentileOf(histogramOf(latencies), q, max) ?? NaN;
          const exact = exactPercentile(latencies, q);
          expect(estimate).toBeLessThanOrEqual(max);
          expect(estimate / exact).toBeLessThanOrEqual(Math.sqrt(1.25) + 1e-9);
          expect(exact / estimate).toBeLessThanOrEqual(Math.sqrt(1.25) + 1e-9);
        },
      ),
    );
  });

  it('adds element-wise; p50 <= p95 <= p99 <= max; null when empty', () => {
    const sum = histogramOf([1, 2, 3]);
    addHistogram(sum, histogramOf([100, 200]));
    expect(sum.reduce((a, b) => a + b, 0)).toBe(5);
    const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => percentileOf(sum, q, 200) ?? NaN);
    expect(p50).toBeLessThanOrEqual(p95 ?? NaN);
    expect(p95).toBeLessThanOrEqual(p99 ?? NaN);
    expect(p99).toBeLessThanOrEqual(200);
    expect(percentileOf(emptyHistogram(), 0.5, 0)).toBeNull();
    expect(percentileOf(histogramOf([1e6]), 0.5, 1e6)).toBe(1e6);
  });
});
