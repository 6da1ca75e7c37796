import type { Permission, Role } from './permissions.js';

/** A user's session (bearer JWT), bound to the token's active organization. */
export interface UserPrincipal {
  type: 'user';
  userId: string;
  organizationId: string;
  role: Role;
  permissions: ReadonlySet<Permission>;
  isPlatformAdmin: boolean;
  /** The session (refresh-token family) of the token, when the token names it. */
  sessionId?: string;
}

/** A server-to-server API key, bound to one organization and optionally one project. */
export interface ApiKeyPrincipal {
  type: 'api_key';
  keyId: string;
  name: string;
  organizationId: string;
  projectId: number | null;
  environment: 'live' | 'test';
  permissions: ReadonlySet<Permission>;
  /** The key's own rate limits, for the rate-limit guard. */
  rateLimits: readonly { window: string; limit: number; algorithm: string }[];
}

/** Who is calling; set on the request by the auth guard, read by everything after it. */
export type Principal = UserPrincipal | ApiKeyPrincipal;

/** The role a credential acts with in its organization: an API key acts as an admin. */
export function actingRole(principal: Principal): Role {
  return principal.type === 'user' ? principal.role : 'admin';
}

export function principalId(principal: Principal): string {
  return principal.type === 'user' ? `user:${principal.userId}` : `key:${principal.keyId}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}
