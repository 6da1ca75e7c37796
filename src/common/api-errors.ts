import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiResponse, ApiSecurity } from '@nestjs/swagger';

const DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_ERROR',
  401: 'AUTHENTICATION_FAILED, API_KEY_INVALID, API_KEY_REVOKED, API_KEY_EXPIRED or TOKEN_EXPIRED',
  403: 'PERMISSION_DENIED or IP_NOT_ALLOWED',
  404: 'RESOURCE_NOT_FOUND (also for another organization’s resources)',
  409: 'CONFLICT',
  410: 'API_VERSION_SUNSET',
  422: 'IDEMPOTENCY_KEY_REUSED',
  429: 'RATE_LIMIT_EXCEEDED or QUOTA_EXCEEDED',
};

/** Documents the error responses a route can give (the body schema is added globally). */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error' }),
    ),
  );
}

/** Documents an authenticated route: both credentials, the permission, and 401/403. */
export function ApiAuth(permission?: string) {
  return applyDecorators(
    ApiSecurity('bearer'),
    ApiSecurity('api_key'),
    ApiResponse({ status: 401, description: DESCRIPTIONS[401] }),
    ...(permission === undefined ? [] : [ApiExtension('x-required-permission', permission)]),
    ApiResponse({
      status: 403,
      description:
        permission === undefined ? DESCRIPTIONS[403] : `PERMISSION_DENIED without ${permission}`,
    }),
  );
}

/**
 * Documents a public route that also takes a credential: anonymous or either credential;
 * a credential that is sent must be valid (401) and may be refused by its IP allowlist (403).
 */
export function ApiOptionalAuth() {
  return applyDecorators(
    ApiSecurity('bearer'),
    ApiSecurity('api_key'),
    ApiSecurity({}),
    ApiResponse({ status: 401, description: DESCRIPTIONS[401] }),
    ApiResponse({
      status: 403,
      description: 'IP_NOT_ALLOWED (an API key used outside its allowed_ips)',
    }),
  );
}
