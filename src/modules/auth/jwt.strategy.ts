import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ROLES, ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { UserPrincipal } from '../../common/principal.js';
import { AUDIENCE, type AccessClaims, ISSUER } from './access-token.js';
import { JwtKeys } from './jwt-keys.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Bearer access tokens: HS256 only, key chosen by `kid`, issuer and audience checked. The
 * role and platform administrator status here are the token's; the auth guard replaces them
 * with the membership's current role and the account's current status.
 * (Passport keeps one strategy per name for the whole process, so nothing of one app's
 * container may be used here: tests run several apps in one process.)
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(keys: JwtKeys) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
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
