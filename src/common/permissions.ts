import { Reflector } from '@nestjs/core';

const READ = [
  'users:read',
  'projects:read',
  'keys:read',
  'analytics:read',
  'audit:read',
  'webhooks:read',
  'events:read',
] as const;
const WRITE = ['users:write', 'projects:write', 'webhooks:write', 'events:write'] as const;
const DELETE = ['users:delete', 'projects:delete'] as const;
const MANAGE = ['keys:write', 'rate_limits:write', 'quotas:write', 'members:write'] as const;
const OWN = ['org:delete', 'org:billing', 'admin'] as const;

/** Every permission (API-key scope) in API.md; `admin` stands for all of an organization's. */
export const PERMISSIONS = [...READ, ...WRITE, ...DELETE, ...MANAGE, ...OWN] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** API.md's role table: what each organization role may do. */
export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(PERMISSIONS),
  admin: new Set([...READ, ...WRITE, ...DELETE, ...MANAGE]),
  member: new Set([...READ, ...WRITE]),
  viewer: new Set(READ),
};

/** Whether a holder of `granted` may do what `required` names (`admin` grants everything). */
export function allows(granted: ReadonlySet<Permission>, required: Permission): boolean {
  return granted.has('admin') || granted.has(required);
}

/**
 * `@RequirePermission('users:write')` on a route: the global permissions guard reads it.
 * A route with neither this nor `@Public()` is refused (fail closed).
 */
export const RequirePermission = Reflector.createDecorator<Permission>();

/** `@Public()`: the route needs no credential (health, docs, login, register). */
export const Public = Reflector.createDecorator<void, true>({ transform: () => true });
