/**
 * Where a Sentry SDK puts its DSN's public key (https://develop.sentry.dev/sdk/overview/#authentication):
 * `X-Sentry-Auth: Sentry sentry_key=<key>, sentry_version=7, sentry_client=<sdk>/<version>`
 * (fields in any order, with or without spaces; the `Sentry ` prefix is optional for Relay
 * too), or the `sentry_key` query parameter (browsers, whose beacons cannot set headers), or
 * the `dsn` field of the envelope header.
 */

const MAX_KEY_LENGTH = 128;

/** The `sentry_key` of an X-Sentry-Auth header value, if it has one. */
export function keyOfAuthHeader(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const fields = value.trim().replace(/^sentry\s+/i, '');
  for (const field of fields.split(',')) {
    const at = field.indexOf('=');
    if (at === -1) continue;
    if (field.slice(0, at).trim().toLowerCase() !== 'sentry_key') continue;
    return clean(field.slice(at + 1));
  }
  return undefined;
}

/** The `sentry_key` query parameter, if sent (the first, when sent twice). */
export function keyOfQuery(query: unknown): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.sentry_key;
  const first = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof first === 'string' ? clean(first) : undefined;
}

/**
 * The public key of a DSN (`https://<public_key>[:<secret>]@host[/path]/<project_id>`), when
 * its last path segment is `projectId`; undefined for a DSN that names another project or is
 * not a URL.
 */
export function keyOfDsn(dsn: string, projectId: number): string | undefined {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    return undefined;
  }
  const last = url.pathname.replace(/\/+$/, '').split('/').pop();
  if (last !== String(projectId)) return undefined;
  return clean(decodeURIComponent(url.username));
}

function clean(key: string): string | undefined {
  const trimmed = key.trim().replace(/^"(.*)"$/, '$1');
  return trimmed === '' || trimmed.length > MAX_KEY_LENGTH ? undefined : trimmed;
}
