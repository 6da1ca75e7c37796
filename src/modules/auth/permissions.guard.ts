import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { allows } from '../../common/permissions.js';
import { routeAccess } from '../../common/route-access.js';
import { AuthErrors } from './auth.errors.js';

/**
 * Last guard before validation: the route's `@RequirePermission` against the principal's
 * permissions. A route that declares neither a permission, `@Authenticated()` nor
 * `@Public()` is refused: forgetting the decorator fails closed.
 */
@Injectable()
export class PermissionsGuard implements CanActivate {
  private readonly logger = new Logger('Permissions');

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const access = routeAccess(this.reflector, context);
    if (access.isPublic) return true;
    const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
    if (principal === undefined) throw AuthErrors.required();
    const required = access.permission;
    if (required !== undefined) {
      if (!allows(principal.permissions, required)) throw AuthErrors.permissionDenied(required);
      return true;
    }
    if (access.authenticated) return true;
    this.logger.error(
      `${context.getClass().name}.${context.getHandler().name} declares no permission`,
    );
    throw AuthErrors.noPermissionDeclared();
  }
}
