import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  type AuthGuardAuthenticateOptions,
  AuthGuard as PassportAuthGuard,
} from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../common/app-error.js';
import { ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { Principal } from '../../common/principal.js';
import { routeAccess } from '../../common/route-access.js';
import { ApiKeyAuthenticator, sentApiKey } from '../keys/api-key-authenticator.js';
import { CredentialFailures } from '../keys/credential-failures.js';
import { MembershipCache } from '../organizations/membership-cache.js';
import { PlatformAdminsService } from '../users/platform-admins.service.js';
import { AuthErrors } from './auth.errors.js';

const API_KEY_AS_BEARER = /^bearer\s+sk_/i;

/**
 * First in the guard chain: turns the credential into `request.principal`. X-API-Key goes
 * to the key authenticator (cached, no Postgres after first use); bearer tokens through the
 * passport JWT strategy, then checked against the membership as it is now (in-process cache,
 * dropped on every process when a membership changes): a removed member's or a deleted
 * organization's token is a 401, and the current role replaces the token's. `@Public()` routes are let through without either, except that
 * `@OptionalAuth()` routes still authenticate a credential that is sent. A blocked address's
 * failed credentials are mostly refused before routing already (BlockedCredentials).
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly failures: CredentialFailures,
    private readonly memberships: MembershipCache,
    private readonly platformAdmins: PlatformAdminsService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = routeAccess(this.reflector, context);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const apiKey = sentApiKey(request);
    if (access.isPublic) {
      const sentCredential = apiKey !== undefined || request.headers.authorization !== undefined;
      if (!sentCredential || !access.optionalAuth) return true;
    }
    if (apiKey !== undefined) {
      const principal = this.apiKeys.authenticate(apiKey, request);
      request.principal = principal instanceof Promise ? await principal : principal;
      return true;
    }
    if (request.headers.authorization === undefined) throw AuthErrors.required();
    // A key sent the way tokens are: said so, rather than "the access token is invalid".
    if (API_KEY_AS_BEARER.test(request.headers.authorization)) {
      throw await this.failures.refuse(request.ip, AuthErrors.apiKeyAsBearer());
    }
    try {
      await super.canActivate(context);
    } catch (error) {
      // An invalid token counts against the address's failure limit; an expired one does not.
      if (error instanceof AppError && error.code === 'AUTHENTICATION_FAILED') {
        throw await this.failures.refuse(request.ip, error);
      }
      throw error;
    }
    const principal = request.principal;
    if (principal?.type !== 'user') throw AuthErrors.invalidToken();
    const role = await this.memberships.roleOf(
      principal.userId,
      principal.organizationId,
      Date.now(),
    );
    if (role === null) throw AuthErrors.invalidToken();
    // The `pa` claim alone would outlive `npm run admin -- revoke` (which writes only
    // Postgres) by the token's lifetime: a token that claims the status, held by a handful
    // of accounts, is checked against the account on each request.
    const isPlatformAdmin =
      principal.isPlatformAdmin && (await this.platformAdmins.isPlatformAdmin(principal.userId));
    if (role !== principal.role || isPlatformAdmin !== principal.isPlatformAdmin) {
      request.principal = {
        ...principal,
        role,
        permissions: ROLE_PERMISSIONS[role],
        isPlatformAdmin,
      };
    }
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
