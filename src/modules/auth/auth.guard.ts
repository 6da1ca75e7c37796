import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  type AuthGuardAuthenticateOptions,
  AuthGuard as PassportAuthGuard,
} from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Public } from '../../common/permissions.js';
import type { Principal } from '../../common/principal.js';
import { AuthErrors } from './auth.errors.js';

/**
 * First in the guard chain: turns the credential into `request.principal`. Bearer tokens go
 * through the passport JWT strategy; `@Public()` routes are let through without one.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride(Public, [context.getHandler(), context.getClass()]))
      return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.headers['x-api-key'] !== undefined) throw AuthErrors.apiKeysNotAvailable();
    if (request.headers.authorization === undefined) throw AuthErrors.required();
    return (await super.canActivate(context)) as boolean;
  }

  override getAuthenticateOptions(): AuthGuardAuthenticateOptions {
    return { session: false, property: 'principal' };
  }

  override handleRequest<T = Principal>(error: unknown, principal: T | false, info: unknown): T {
    if ((info as { name?: string } | undefined)?.name === 'TokenExpiredError')
      throw AuthErrors.expired();
    if (error !== null && error !== undefined) throw AuthErrors.invalidToken();
    if (principal === false || principal === undefined || principal === null)
      throw AuthErrors.invalidToken();
    return principal;
  }
}
