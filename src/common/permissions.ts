import { applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiAuth, ApiOptionalAuth } from './api-errors.js';

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

/** Rank: owner > admin > member > viewer. Nobody changes or removes someone above them. */
export const ROLE_RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

/** Whether a holder of `granted` may do what `required` names (`admin` grants everything). */
export function allows(granted: ReadonlySet<Permission>, required: Permission): boolean {
  return granted.has('admin') || granted.has(required);
}

/** `@Public()`: the route needs no credential (health, docs, login, register). */
export const Public = Reflector.createDecorator<void, true>({ transform: () => true });

/** Metadata: a public route on which a credential, when sent, is still authenticated. */
export const OptionalAuthMetadata = Reflector.createDecorator<void, true>({
  transform: () => true,
});

/**
 * `@OptionalAuth()`: anyone may call the route, and a credential that is sent is checked
 * (a bad one is a 401) and sets the principal, so what comes after can tell who is calling
 * (the version guard lets a platform administrator read a sunset version's /versions).
 */
export function OptionalAuth() {
  return applyDecorators(Public(), OptionalAuthMetadata(), ApiOptionalAuth());
}

/**
 * `@PlatformManagement()` on a route or controller: a platform administrator's calls to it are
 * never rate limited, so no limit they set (on the platform, a tier or an organization) can
 * lock them out of undoing it. Read by the rate-limit guard, for platform administrators only.
 */
export const PlatformManagement = Reflector.createDecorator<void, true>({
  transform: () => true,
});

/** Metadata read by the permissions guard; routes use the decorators below. */
export const PermissionMetadata = Reflector.createDecorator<Permission>();
export const AuthenticatedMetadata = Reflector.createDecorator<void, true>({
  transform: () => true,
});

/**
 * `@RequirePermission('users:write')` on a route: the global permissions guard checks it and
 * the OpenAPI document shows it. A route with none of these decorators and no `@Public()`
 * is refused (fail closed).
 */
export function RequirePermission(permission: Permission) {
  return applyDecorators(PermissionMetadata(permission), ApiAuth(permission));
}

/** `@Authenticated()`: any valid credential may call the route; what it returns is scoped to it. */
export function Authenticated() {
  return applyDecorators(AuthenticatedMetadata(), ApiAuth());
}
