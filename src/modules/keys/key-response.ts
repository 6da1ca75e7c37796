import type { ApiKey } from './api-key.entity.js';
import type { KeyResponse } from './keys.dto.js';

export function keyStatus(key: ApiKey, now = Date.now()): KeyResponse['status'] {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now) return 'expired';
  return 'active';
}

/** A key as the API returns it (and as its webhook events carry it): never its secret. */
export function toKeyResponse(key: ApiKey): KeyResponse {
  return {
    id: key.id,
    name: key.name,
    description: key.description,
    environment: key.environment,
    prefix: key.prefix,
    organization_id: key.organizationId,
    project_id: key.projectId,
    permissions: key.permissions,
    allowed_ips: key.allowedIps,
    expires_at: key.expiresAt?.toISOString() ?? null,
    rate_limits: key.rateLimits,
    status: keyStatus(key),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
    updated_at: key.updatedAt.toISOString(),
  };
}
