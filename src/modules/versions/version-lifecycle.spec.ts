import { describe, expect, it } from '@jest/globals';
import type { ApiVersion } from './api-version.entity.js';
import { decide, lifecycleOf } from './version-lifecycle.js';
import { routeVersion } from './version.guard.js';

type Row = Pick<ApiVersion, 'status' | 'deprecatedAt' | 'sunsetDate' | 'migrationGuideUrl'>;

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const HOUR = 3_600_000;

function row(changes: Partial<Row> = {}): Row {
  return {
    status: 'stable',
    deprecatedAt: null,
    sunsetDate: null,
    migrationGuideUrl: null,
    ...changes,
  };
}

const at = (row_: Row, nowMs = NOW) => decide(lifecycleOf(row_), nowMs);

describe('version lifecycle', () => {
  it('a beta or stable version with no dates passes with no headers', () => {
    expect(at(row())).toEqual({ isSunset: false, headers: {} });
    expect(at(row({ status: 'beta' }))).toEqual({ isSunset: false, headers: {} });
    // The store keeps only lifecycles that can ever deprecate (a sunset implies deprecation).
    expect(lifecycleOf(row())).toMatchObject({ deprecatedFromMs: null, sunsetFromMs: null });
    expect(lifecycleOf(row({ sunsetDate: new Date(NOW + HOUR) })).deprecatedFromMs).toBe(
      NOW + HOUR,
    );
  });

  it('status deprecated: Deprecation is deprecated_at as @unix-seconds, or now without one', () => {
    expect(at(row({ status: 'deprecated' }))).toEqual({
      isSunset: false,
      headers: { Deprecation: `@${NOW / 1000}` },
    });
    const deprecatedAt = new Date('2026-05-01T00:00:00.500Z');
    expect(at(row({ status: 'deprecated', deprecatedAt })).headers).toEqual({
      Deprecation: `@${Math.floor(deprecatedAt.getTime() / 1000)}`,
    });
  });

  it('deprecated_at makes a stable version deprecated from that instant on, not before', () => {
    const deprecatedAt = new Date(NOW + HOUR);
    expect(at(row({ deprecatedAt })).headers).toEqual({});
    expect(at(row({ deprecatedAt }), NOW + HOUR).headers).toEqual({
      Deprecation: `@${(NOW + HOUR) / 1000}`,
    });
  });

  it('Sunset is an RFC 8594 HTTP-date and Link points at the migration guide', () => {
    const decision = at(
      row({
        status: 'deprecated',
        deprecatedAt: new Date('2026-05-01T00:00:00.000Z'),
        sunsetDate: new Date('2027-01-31T23:59:59.000Z'),
        migrationGuideUrl: 'https://docs.example.com/v2',
      }),
    );
    expect(decision).toEqual({
      isSunset: false,
      headers: {
        Deprecation: '@1777593600',
        Sunset: 'Sun, 31 Jan 2027 23:59:59 GMT',
        Link: '<https://docs.example.com/v2>; rel="deprecation"',
      },
    });
  });

  it('status sunset is refused at once, and still carries the deprecation headers', () => {
    const decision = at(row({ status: 'sunset', migrationGuideUrl: 'https://x.test/m' }));
    expect(decision.isSunset).toBe(true);
    expect(decision.headers).toEqual({
      Deprecation: `@${NOW / 1000}`,
      Link: '<https://x.test/m>; rel="deprecation"',
    });
  });

  it('a sunset_date refuses from that instant on, whatever the status', () => {
    const sunsetDate = new Date(NOW);
    expect(at(row({ sunsetDate }), NOW - 1).isSunset).toBe(false);
    expect(at(row({ sunsetDate }), NOW).isSunset).toBe(true);
    expect(at(row({ status: 'beta', sunsetDate }), NOW + HOUR).isSunset).toBe(true);
    // Past its sunset a version is deprecated too, even without deprecated_at.
    expect(at(row({ sunsetDate }), NOW).headers.Deprecation).toBe(`@${NOW / 1000}`);
  });
});

describe('route version', () => {
  it('is the URI segment after /api, and none for unversioned routes', () => {
    expect(routeVersion('/api/v1/users/:id')).toBe('v1');
    expect(routeVersion('/api/v12/versions')).toBe('v12');
    expect(routeVersion('/api/v1')).toBe('v1');
    expect(routeVersion('/health')).toBeUndefined();
    expect(routeVersion('/api/:project_id/envelope/')).toBeUndefined();
    expect(routeVersion('/api/v1x/users')).toBeUndefined();
    expect(routeVersion(undefined)).toBeUndefined();
  });
});
