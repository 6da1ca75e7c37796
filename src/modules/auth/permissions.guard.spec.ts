import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../../common/app-error.js';
import {
  Authenticated,
  Public,
  RequirePermission,
  ROLE_PERMISSIONS,
} from '../../common/permissions.js';
import type { Principal } from '../../common/principal.js';
import { PermissionsGuard } from './permissions.guard.js';

class Routes {
  @RequirePermission('users:write')
  write(this: void): void {}

  @Authenticated()
  anyone(this: void): void {}

  @Public()
  open(this: void): void {}

  undeclared(this: void): void {}
}

const viewer: Principal = {
  type: 'user',
  userId: 'u',
  organizationId: 'o',
  role: 'viewer',
  permissions: ROLE_PERMISSIONS.viewer,
  isPlatformAdmin: false,
};
const member: Principal = { ...viewer, role: 'member', permissions: ROLE_PERMISSIONS.member };

function contextFor(handler: keyof Routes, principal?: Principal): ExecutionContext {
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ principal }) }),
  } as unknown as ExecutionContext;
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
}

describe('PermissionsGuard', () => {
  const guard = new PermissionsGuard(new Reflector());

  it('lets a principal with the permission through and refuses one without', () => {
    expect(guard.canActivate(contextFor('write', member))).toBe(true);
    expect(codeOf(() => guard.canActivate(contextFor('write', viewer)))).toBe('PERMISSION_DENIED');
  });

  it('needs a principal for anything not public', () => {
    expect(codeOf(() => guard.canActivate(contextFor('write')))).toBe('AUTHENTICATION_FAILED');
    expect(codeOf(() => guard.canActivate(contextFor('anyone')))).toBe('AUTHENTICATION_FAILED');
    expect(guard.canActivate(contextFor('anyone', viewer))).toBe(true);
    expect(guard.canActivate(contextFor('open'))).toBe(true);
  });

  it('fails closed for a route that declares nothing', () => {
    expect(codeOf(() => guard.canActivate(contextFor('undeclared', member)))).toBe(
      'PERMISSION_DENIED',
    );
  });
});
