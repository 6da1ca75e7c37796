import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { systemContext } from '../../common/request-context.js';
import { AdminConfig } from '../../config/config.classes.js';
import { hashPassword } from '../auth/password.js';
import { PlatformAdminsRepository } from './platform-admins.repository.js';

/**
 * Platform administrators in the api process: the first one is created at start from
 * ADMIN_EMAIL + ADMIN_PASSWORD, and a token's `pa` claim is checked against the account on
 * every request that carries it, so `npm run admin -- revoke` holds from the next request.
 */
@Injectable()
export class PlatformAdminsService implements OnApplicationBootstrap {
  private readonly logger = new Logger('PlatformAdmins');

  constructor(
    private readonly admins: PlatformAdminsRepository,
    private readonly config: AdminConfig,
  ) {}

  isPlatformAdmin(userId: string): Promise<boolean> {
    return this.admins.isPlatformAdmin(userId);
  }

  /**
   * Several processes may start at once: the repository serialises them on an advisory
   * lock, so one creates the account and the others find it. An account that already had
   * the email (someone registered it first) is never promoted: that needs the operator's CLI.
   */
  async onApplicationBootstrap(): Promise<void> {
    const wanted = this.config.bootstrap;
    if (wanted === null) return;
    const known = await this.admins.findByEmail(wanted.email);
    const result =
      known === null
        ? await this.admins.createFirst(
            systemContext('gatehouse api start-up'),
            wanted.email,
            await hashPassword(wanted.password),
          )
        : { kind: 'exists' as const, user: known };
    if (result.kind === 'created') {
      this.logger.log({
        msg: 'platform administrator created from ADMIN_EMAIL',
        email: result.user.email,
        username: result.user.username,
        organization_id: result.organization.id,
      });
    } else if (!result.user.isPlatformAdmin) {
      this.logger.warn({
        msg: `an account with ADMIN_EMAIL already exists and is not a platform administrator; it was not promoted (the operator can run: npm run admin -- grant ${result.user.email})`,
        email: result.user.email,
      });
    }
  }
}
