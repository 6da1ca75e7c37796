import type { ApiVersion } from './api-version.entity.js';

/**
 * What the version guard needs of one version, prepared once per reload so a request costs a
 * Map lookup and two comparisons: the lifecycle instants, and the header values that do not
 * depend on the time of the request.
 */
export interface VersionLifecycle {
  /** Deprecated from this instant (status `deprecated`/`sunset` means from always). */
  deprecatedFromMs: number | null;
  /** Refused with 410 from this instant (status `sunset` means from always). */
  sunsetFromMs: number | null;
  /** RFC 9745 `@<unix seconds>` of deprecated_at, or null to say "now". */
  deprecation: string | null;
  /** RFC 8594 HTTP-date of sunset_date. */
  sunset: string | null;
  /** `<migration_guide_url>; rel="deprecation"`. */
  link: string | null;
}

export interface LifecycleDecision {
  isSunset: boolean;
  /** Deprecation, Sunset and Link, for a deprecated (or sunset) version; else empty. */
  headers: Record<string, string>;
}

const ALWAYS = Number.NEGATIVE_INFINITY;

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export function lifecycleOf(
  row: Pick<ApiVersion, 'status' | 'deprecatedAt' | 'sunsetDate' | 'migrationGuideUrl'>,
): VersionLifecycle {
  const deprecatedAtMs = row.deprecatedAt?.getTime() ?? null;
  const sunsetDateMs = row.sunsetDate?.getTime() ?? null;
  const isSunsetNow = row.status === 'sunset';
  const isDeprecatedNow = isSunsetNow || row.status === 'deprecated';
  const sunsetFromMs = isSunsetNow ? ALWAYS : sunsetDateMs;
  return {
    // A sunset version is also deprecated: an exempt request still gets the headers.
    deprecatedFromMs: isDeprecatedNow ? ALWAYS : earliest(deprecatedAtMs, sunsetFromMs),
    sunsetFromMs,
    deprecation: deprecatedAtMs === null ? null : `@${Math.floor(deprecatedAtMs / 1000)}`,
    sunset: row.sunsetDate === null ? null : row.sunsetDate.toUTCString(),
    link: row.migrationGuideUrl === null ? null : `<${row.migrationGuideUrl}>; rel="deprecation"`,
  };
}

/** Whether a request at `nowMs` is refused (410) and which lifecycle headers it carries. */
export function decide(lifecycle: VersionLifecycle, nowMs: number): LifecycleDecision {
  const isSunset = lifecycle.sunsetFromMs !== null && lifecycle.sunsetFromMs <= nowMs;
  const isDeprecated = lifecycle.deprecatedFromMs !== null && lifecycle.deprecatedFromMs <= nowMs;
  if (!isDeprecated) return { isSunset, headers: {} };
  const headers: Record<string, string> = {
    Deprecation: lifecycle.deprecation ?? `@${Math.floor(nowMs / 1000)}`,
  };
  if (lifecycle.sunset !== null) headers.Sunset = lifecycle.sunset;
  if (lifecycle.link !== null) headers.Link = lifecycle.link;
  return { isSunset, headers };
}
