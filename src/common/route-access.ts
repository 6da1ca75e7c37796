import type { ExecutionContext, Type } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import {
  AuthenticatedMetadata,
  OptionalAuthMetadata,
  type Permission,
  PermissionMetadata,
  PlatformManagement,
  Public,
} from './permissions.js';

/** What the auth, rate-limit and permissions guards read of a route's decorators. */
export interface RouteAccess {
  isPublic: boolean;
  optionalAuth: boolean;
  /** `@RequirePermission`'s permission, if any. */
  permission: Permission | undefined;
  authenticated: boolean;
  platformManagement: boolean;
}

/** Handler -> controller -> its access: decorators are fixed once the classes are loaded. */
const known = new WeakMap<object, WeakMap<object, RouteAccess>>();

/**
 * The access decorators of the route being called (the handler's overriding its
 * controller's), read once per route rather than several reflections per guard per request.
 */
export function routeAccess(reflector: Reflector, context: ExecutionContext): RouteAccess {
  const handler = context.getHandler();
  const controller: Type = context.getClass();
  let byController = known.get(handler);
  let access = byController?.get(controller);
  if (access !== undefined) return access;
  const targets = [handler, controller];
  access = {
    isPublic: reflector.getAllAndOverride(Public, targets) === true,
    optionalAuth: reflector.getAllAndOverride(OptionalAuthMetadata, targets) === true,
    permission: reflector.getAllAndOverride(PermissionMetadata, targets),
    authenticated: reflector.getAllAndOverride(AuthenticatedMetadata, targets) === true,
    platformManagement: reflector.getAllAndOverride(PlatformManagement, targets) === true,
  };
  if (byController === undefined) {
    byController = new WeakMap();
    known.set(handler, byController);
  }
  byController.set(controller, access);
  return access;
}
