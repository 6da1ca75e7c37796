import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  type AuthGuardAuthenticateOptions,
  AuthGuard as PassportAuthGuard,
} from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { OptionalAuthMetadata, Public, ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { Principal } from '../../common/principal.js';
import { ApiKeyAuthenticator } from '../keys/api-key-authenticator.js';
import { MembershipCache } from '../organizations/membership-cache.js';
import { AuthErrors } from './auth.errors.js';

/**
 * First in the guard chain: turns the credential into `request.principal`. X-API-Key goes
 * to the key authenticator (cached, no Postgres after first use); bearer tokens through the
 * passport JWT strategy, then checked against the membership as it is now (in-process cache,
 * dropped on every process when a membership changes): a removed member's or a deleted
 * organization's token is a 401, and the current role replaces the token's. `@Public()` routes are let through without either, except that
 * `@OptionalAuth()` routes still authenticate a credential that is sent.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly memberships: MembershipCache,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const apiKey = request.headers['x-api-key'];
    if (this.reflector.getAllAndOverride(Public, targets)) {
      const sentCredential = apiKey !== undefined || request.headers.authorization !== undefined;
      if (!sentCredential || !this.reflector.getAllAndOverride(OptionalAuthMetadata, targets))
        return true;
    }
    if (apiKey !== undefined) {
      request.principal = await this.apiKeys.authenticate(
        Array.isArray(apiKey) ? (apiKey[0] ?? '') : apiKey,
        request,
      );
      return true;
    }
    if (request.headers.authorization === undefined) throw AuthErrors.required();
    await super.canActivate(context);
    const principal = request.principal;
    if (principal?.type !== 'user') throw AuthErrors.invalidToken();
    const role = await this.memberships.roleOf(
      principal.userId,
      principal.organizationId,
      Date.now(),
    );
    if (role === null) throw AuthErrors.invalidToken();
    if (role !== principal.role)
      request.principal = { ...principal, role, permissions: ROLE_PERMISSIONS[role] };
    return true;
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
