import { Injectable } from '@nestjs/common';
import { JwtService, type JwtVerifyOptions } from '@nestjs/jwt';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ROLES, ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { UserPrincipal } from '../../common/principal.js';
import { AUDIENCE, type AccessClaims, ISSUER } from './access-token.js';
import { JwtKeys } from './jwt-keys.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where the token is, and what is checked besides its key: passport's and isInvalid's alike. */
const fromBearerHeader = ExtractJwt.fromAuthHeaderAsBearerToken();
const VERIFY_OPTIONS = {
  algorithms: ['HS256'],
  issuer: ISSUER,
  audience: AUDIENCE,
} satisfies JwtVerifyOptions;

/**
 * Bearer access tokens: HS256 only, key chosen by `kid`, issuer and audience checked. The
 * role and platform administrator status here are the token's; the auth guard replaces them
 * with the membership's current role and the account's current status.
 * (Passport keeps one strategy per name for the whole process, so nothing of one app's
 * container may be used here: tests run several apps in one process.)
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly keys: JwtKeys,
    private readonly jwt: JwtService,
  ) {
    super({
      jwtFromRequest: fromBearerHeader,
      ...VERIFY_OPTIONS,
      secretOrKeyProvider: (
        _request: unknown,
        rawToken: string,
        done: (error: Error | null, secret?: string) => void,
      ) => {
        const secret = keys.secretFor(rawToken);
        if (secret === undefined) done(new Error('unknown signing key'));
        else done(null, secret);
      },
    });
  }

  /**
   * Whether passport would fail the request's bearer credential as invalid (none, not signed
   * by one of our keys, wrong algorithm, issuer, audience or claims), decided here without
   * passport for the refusal before routing (BlockedCredentials), with this app's own keys.
   * An expired token is not invalid: its 401 says to refresh, and counts as no failure.
   */
  isInvalid(request: FastifyRequest): boolean {
    const token = fromBearerHeader(request);
    const secret = typeof token === 'string' ? this.keys.secretFor(token) : undefined;
    if (typeof token !== 'string' || token === '' || secret === undefined) return true;
    try {
      return (
        this.validate(this.jwt.verify<AccessClaims>(token, { secret, ...VERIFY_OPTIONS })) === false
      );
    } catch (error) {
      return (error as { name?: unknown }).name !== 'TokenExpiredError';
    }
  }

  validate(claims: AccessClaims): UserPrincipal | false {
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.org !== 'string' ||
      !ROLES.includes(claims.role) ||
      !UUID.test(claims.sub) ||
      !UUID.test(claims.org)
    ) {
      return false;
    }
    return {
      type: 'user',
      userId: claims.sub,
      organizationId: claims.org,
      role: claims.role,
      permissions: ROLE_PERMISSIONS[claims.role],
      isPlatformAdmin: claims.pa === true,
      ...(typeof claims.sid === 'string' ? { sessionId: claims.sid } : {}),
    };
  }
}
