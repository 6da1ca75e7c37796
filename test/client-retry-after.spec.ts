import { describe, expect, it } from '@jest/globals';
import { retryAfterMs } from '../clients/typescript/src/gatehouse-client.js';

describe('TypeScript client: Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');

  it('reads delay-seconds', () => {
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs(' 30 ', now)).toBe(30_000);
    expect(retryAfterMs('0', now)).toBe(0);
  });

  it('reads an HTTP date, a past one as no wait', () => {
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('is null when absent or unreadable, so the client backs off on its own', () => {
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('-1', now)).toBeNull();
    expect(retryAfterMs('1.5', now)).toBeNull();
  });
});
