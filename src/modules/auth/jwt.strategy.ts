import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ROLES, ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { UserPrincipal } from '../../common/principal.js';
import { AUDIENCE, type AccessClaims, ISSUER } from './access-token.js';
import { MembershipCache } from '../organizations/membership-cache.js';
import { JwtKeys } from './jwt-keys.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Bearer access tokens: HS256 only, key chosen by `kid`, issuer and audience checked. The
 * role comes from the membership as it is now (in-process cache, dropped on every change),
 * not from the token: a removed member or a deleted organization is refused at once, and a
 * demotion applies to tokens already issued.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: JwtKeys,
    private readonly memberships: MembershipCache,
  ) {
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

  async validate(claims: AccessClaims): Promise<UserPrincipal | false> {
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.org !== 'string' ||
      !ROLES.includes(claims.role) ||
      !UUID.test(claims.sub) ||
      !UUID.test(claims.org)
    ) {
      return false;
    }
    const role = await this.memberships.roleOf(claims.sub, claims.org, Date.now());
    if (role === null) return false;
    return {
      type: 'user',
      userId: claims.sub,
      organizationId: claims.org,
      role,
      permissions: ROLE_PERMISSIONS[role],
      isPlatformAdmin: claims.pa === true,
      ...(typeof claims.sid === 'string' ? { sessionId: claims.sid } : {}),
    };
  }
}
