import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ROLES, ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { UserPrincipal } from '../../common/principal.js';
import { AUDIENCE, type AccessClaims, ISSUER } from './access-token.js';
import { JwtKeys } from './jwt-keys.js';
import { PlatformAdminsService } from '../users/platform-admins.service.js';

/** Bearer access tokens: HS256 only, key chosen by `kid`, issuer and audience checked. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: JwtKeys,
    private readonly platformAdmins: PlatformAdminsService,
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
      !ROLES.includes(claims.role)
    ) {
      return false;
    }
    return {
      type: 'user',
      userId: claims.sub,
      organizationId: claims.org,
      role: claims.role,
      permissions: ROLE_PERMISSIONS[claims.role],
      // The claim alone would outlive a revoke by up to the token's lifetime: a token that
      // claims the status (a handful of accounts) is checked against the account each time.
      isPlatformAdmin:
        claims.pa === true && (await this.platformAdmins.isPlatformAdmin(claims.sub)),
    };
  }
}
