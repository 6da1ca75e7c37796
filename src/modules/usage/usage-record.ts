import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyPrincipal } from '../../common/principal.js';
import { routeVersion } from '../versions/version.guard.js';

/**
 * One request that carried a credential, as the api hands it to the worker and usage_logs
 * keeps it (snake_case: it is the job payload and the row). Nothing about the body, no header
 * but the user agent.
 */
export interface UsageRecord {
  /** Made here, once per request: with created_at, what makes a redelivered row a no-op. */
  id: string;
  /** When the request arrived (ISO, ms): fixed in the record, so a retry names the same row. */
  created_at: string;
  organization_id: string;
  api_key_id: string | null;
  user_id: string | null;
  project_id: number | null;
  method: string;
  /** Without the query string, which may carry secrets (sentry_key) or personal data. */
  path: string;
  route: string;
  status: number;
  response_time_ms: number;
  request_bytes: number;
  response_bytes: number;
  ip: string;
  user_agent: string | null;
  api_version: string | null;
  error_code: string | null;
  request_id: string;
  /** The limit that refused the request (a 429): a window (`minute`...) or `quota`; else null. */
  limit_type: string | null;
  limit_value: number | null;
  /** What was counted against that limit when it refused. */
  current_usage: number | null;
}

/**
 * A usage record as the api hands it over (UsageBatch's rows): UsageRecord's values in its
 * field order (usage_logs' columns, USAGE_LOG_COLUMNS) but the id, which the batch gives
 * (UsageBatchRows.id_prefix), and created_at as epoch milliseconds. An array and a number
 * instead of an object and an ISO string: less to build per request, to serialize, to keep
 * in Redis and to parse in the worker.
 */
export type UsageTuple = [
  created_at_ms: number,
  organization_id: string,
  api_key_id: string | null,
  user_id: string | null,
  project_id: number | null,
  method: string,
  path: string,
  route: string,
  status: number,
  response_time_ms: number,
  request_bytes: number,
  response_bytes: number,
  ip: string,
  user_agent: string | null,
  api_version: string | null,
  error_code: string | null,
  request_id: string,
  limit_type: string | null,
  limit_value: number | null,
  current_usage: number | null,
];

/**
 * A `usage.record` job's payload since the compact format: up to 1,000 rows of one api
 * process. Row i's id is `id_prefix` (the first 24 characters of a random UUID, fixed when
 * the batch is sealed) followed by i in 12 hex digits: the same ids however often the batch
 * is delivered, unique across batches.
 */
export interface UsageBatchRows {
  id_prefix: string;
  rows: UsageTuple[];
}

/**
 * A `usage.record` job's payload: the compact rows, or (jobs queued by an api of an earlier
 * version, specs and tools) the records as objects. The worker takes both.
 */
export type UsageBatch = UsageBatchRows | { records: UsageRecord[] };

/** Row i's id in a batch of compact rows. */
export function usageRowId(idPrefix: string, index: number): string {
  return idPrefix + index.toString(16).padStart(12, '0');
}

/** Records as a compact batch (their ids replaced by the batch's): what the api would send. */
export function usageBatchOf(records: readonly UsageRecord[], idPrefix: string): UsageBatchRows {
  return {
    id_prefix: idPrefix,
    rows: records.map((r) => [
      Date.parse(r.created_at),
      r.organization_id,
      r.api_key_id,
      r.user_id,
      r.project_id,
      r.method,
      r.path,
      r.route,
      r.status,
      r.response_time_ms,
      r.request_bytes,
      r.response_bytes,
      r.ip,
      r.user_agent,
      r.api_version,
      r.error_code,
      r.request_id,
      r.limit_type,
      r.limit_value,
      r.current_usage,
    ]),
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * A key that was found and is valid but was refused for this request all the same (its
     * allowed_ips): not a principal, yet the request is its usage (a 403).
     */
    refusedKey?: ApiKeyPrincipal;
    /** The error body's code when the request failed (set by the exception filter). */
    errorCode?: string;
    /** The client closed the connection before the answer was sent (see http-app.ts). */
    closedByClient?: boolean;
    /** Its usage row is taken already (when the client closed): onResponse adds none. */
    usageRecorded?: boolean;
  }
}

/**
 * The status a request the client gave up on is recorded with (nginx's "client closed
 * request"): its work was done and its limits were counted, though nobody read the answer.
 */
export const CLIENT_CLOSED_STATUS = 499;

const USER_AGENT_MAX = 512;
/**
 * usage_logs' byte counts are Postgres integers. A client may claim any Content-Length on a
 * request whose body is never read (a GET): a larger count is stored as this, else the row
 * would fail its whole batch.
 */
const BYTE_COUNT_MAX = 2 ** 31 - 1;

function byteCount(value: string | number | string[] | undefined): number {
  const count = typeof value === 'string' ? Number.parseInt(value, 10) : value;
  return typeof count === 'number' && Number.isFinite(count) && count >= 0
    ? Math.min(count, BYTE_COUNT_MAX)
    : 0;
}

/**
 * The usage row of a finished request, or of one its client closed before the answer (status
 * CLIENT_CLOSED_STATUS, no response bytes); its id is given when its batch is sealed. Null
 * when it is nobody's usage: no credential was established (none sent, a forged or unknown
 * one, an unmatched URL that no guard saw), or the answer was 401 (a revoked, expired or
 * invalid credential is not a principal, even when it names a real key). Called from the
 * onResponse hook and when the client closes the connection: no I/O, no await.
 */
export function usageTupleOf(
  request: FastifyRequest,
  reply: FastifyReply,
  nowMs: number,
): UsageTuple | null {
  const principal = request.principal ?? request.refusedKey;
  if (principal === undefined || reply.statusCode === 401) return null;
  const closed = request.closedByClient === true;
  const elapsedMs = reply.elapsedTime;
  const route = request.routeOptions.url ?? 'unmatched';
  const url = request.url;
  const query = url.indexOf('?');
  const agent = request.headers['user-agent'];
  const isKey = principal.type === 'api_key';
  const refusal = request.limitRefusal;
  return [
    Math.round(nowMs - elapsedMs),
    principal.organizationId,
    isKey ? principal.keyId : null,
    isKey ? null : principal.userId,
    isKey ? principal.projectId : null,
    request.method,
    query === -1 ? url : url.slice(0, query),
    route,
    closed ? CLIENT_CLOSED_STATUS : reply.statusCode,
    Math.round(elapsedMs * 1000) / 1000,
    byteCount(request.headers['content-length']),
    closed ? 0 : byteCount(reply.getHeader('content-length')),
    request.ip,
    typeof agent === 'string' ? agent.slice(0, USER_AGENT_MAX) : null,
    request.apiVersion ?? routeVersion(route) ?? null,
    request.errorCode ?? null,
    request.id,
    refusal?.limit_type ?? null,
    refusal?.limit_value ?? null,
    refusal?.current_usage ?? null,
  ];
}
