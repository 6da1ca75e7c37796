import { randomUUID } from 'node:crypto';
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

/** A `usage.record` job's payload: up to 1,000 records of one api process. */
export interface UsageBatch {
  records: UsageRecord[];
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
  }
}

const USER_AGENT_MAX = 512;

function byteCount(value: string | number | string[] | undefined): number {
  if (typeof value === 'number') return value;
  const count = typeof value === 'string' ? Number.parseInt(value, 10) : NaN;
  return Number.isFinite(count) && count >= 0 ? count : 0;
}

/**
 * The usage record of a finished request, or null when it is nobody's usage: no credential
 * was established (none sent, a forged or unknown one, an unmatched URL that no guard saw),
 * or the answer was 401 (a revoked, expired or invalid credential is not a principal, even
 * when it names a real key). Called from the onResponse hook: no I/O, no await.
 */
export function usageRecordOf(
  request: FastifyRequest,
  reply: FastifyReply,
  nowMs: number,
): UsageRecord | null {
  const principal = request.principal ?? request.refusedKey;
  if (principal === undefined || reply.statusCode === 401) return null;
  const elapsedMs = reply.elapsedTime;
  const route = request.routeOptions.url ?? 'unmatched';
  const query = request.url.indexOf('?');
  const agent = request.headers['user-agent'];
  const isKey = principal.type === 'api_key';
  return {
    id: randomUUID(),
    created_at: new Date(Math.round(nowMs - elapsedMs)).toISOString(),
    organization_id: principal.organizationId,
    api_key_id: isKey ? principal.keyId : null,
    user_id: isKey ? null : principal.userId,
    project_id: isKey ? principal.projectId : null,
    method: request.method,
    path: query === -1 ? request.url : request.url.slice(0, query),
    route,
    status: reply.statusCode,
    response_time_ms: Math.round(elapsedMs * 1000) / 1000,
    request_bytes: byteCount(request.headers['content-length']),
    response_bytes: byteCount(reply.getHeader('content-length')),
    ip: request.ip,
    user_agent: typeof agent === 'string' ? agent.slice(0, USER_AGENT_MAX) : null,
    api_version: request.apiVersion ?? routeVersion(route) ?? null,
    error_code: request.errorCode ?? null,
    request_id: request.id,
    limit_type: request.limitRefusal?.limit_type ?? null,
    limit_value: request.limitRefusal?.limit_value ?? null,
    current_usage: request.limitRefusal?.current_usage ?? null,
  };
}
