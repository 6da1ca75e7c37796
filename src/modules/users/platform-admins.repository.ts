import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { RequestContext } from '../../common/request-context.js';
import { slugWithSuffix } from '../../common/slug.js';
import { recordAudit } from '../audit/audit-record.js';
import { Membership } from '../organizations/membership.entity.js';
import { Organization } from '../organizations/organization.entity.js';
import { User } from './user.entity.js';
import { auditable } from './users.repository.js';

/**
 * Serialises the creation of the first administrator across every process that starts with
 * ADMIN_EMAIL at the same time: the second one waits, then finds the account made.
 */
const BOOTSTRAP_LOCK = 0x6761_7465_6164; // "gatead"

export type FirstAdminResult =
  { kind: 'created'; user: User; organization: Organization } | { kind: 'exists'; user: User };

export type StatusChange =
  { kind: 'unknown' } | { kind: 'unchanged'; user: User } | { kind: 'changed'; user: User };

/** A username for an account made from an email: its local part, made valid, else `admin`. */
function usernameFrom(email: string): string {
  const local = (email.split('@')[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 48);
  return local.length >= 3 ? local : 'admin';
}

/**
 * The platform-administrator status of accounts: given only by the operator, at start
 * (ADMIN_EMAIL) or with the admin CLI, never by anything an account holder does. Used by the
 * api (through PlatformAdminsService) and by dist/admin-cli.js on a bare DataSource.
 */
@Injectable()
export class PlatformAdminsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findByEmail(email: string): Promise<User | null> {
    return this.dataSource.manager.findOneBy(User, { email });
  }

  async isPlatformAdmin(userId: string): Promise<boolean> {
    const rows: { is_platform_admin: boolean }[] = await this.dataSource.query(
      'SELECT is_platform_admin FROM users WHERE id = $1',
      [userId],
    );
    return rows[0]?.is_platform_admin === true;
  }

  /**
   * The account with `email`, created as a platform administrator owning a new organization
   * (as register makes one) unless an account with that email exists, which is left as it is.
   */
  async createFirst(
    ctx: RequestContext,
    email: string,
    passwordHash: string,
  ): Promise<FirstAdminResult> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
      const existing = await manager.findOneBy(User, { email });
      if (existing !== null) return { kind: 'exists', user: existing };
      const username = await this.freeUsername(manager, usernameFrom(email));
      const user = await manager.save(
        manager.create(User, {
          username,
          email,
          passwordHash,
          fullName: null,
          telegramChatId: null,
          isPlatformAdmin: true,
        }),
      );
      const name = `${username}'s organization`;
      const organization = await manager.save(
        manager.create(Organization, { name, slug: slugWithSuffix(name) }),
      );
      await manager.insert(Membership, {
        organizationId: organization.id,
        userId: user.id,
        role: 'owner',
      });
      await recordAudit(manager, ctx, {
        action: 'user.registered',
        organizationId: organization.id,
        actor: { type: 'system', id: 'ADMIN_EMAIL' },
        target: { type: 'user', id: user.id },
        changes: {
          ...auditable(user),
          is_platform_admin: true,
          organization: { id: organization.id, name: organization.name },
        },
      });
      return { kind: 'created', user, organization };
    });
  }

  /** Grants or takes back the status of the account with `email`; audited when it changes. */
  async setStatus(
    ctx: RequestContext,
    email: string,
    isPlatformAdmin: boolean,
    actor: string,
  ): Promise<StatusChange> {
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.findOne(User, {
        where: { email },
        lock: { mode: 'pessimistic_write' },
      });
      if (user === null) return { kind: 'unknown' };
      if (user.isPlatformAdmin === isPlatformAdmin) return { kind: 'unchanged', user };
      await manager.update(User, { id: user.id }, { isPlatformAdmin });
      await recordAudit(manager, ctx, {
        action: isPlatformAdmin ? 'user.platform_admin_granted' : 'user.platform_admin_revoked',
        organizationId: null,
        actor: { type: 'system', id: actor },
        target: { type: 'user', id: user.id },
        changes: { is_platform_admin: { from: !isPlatformAdmin, to: isPlatformAdmin } },
      });
      return { kind: 'changed', user: { ...user, isPlatformAdmin } };
    });
  }

  async list(): Promise<User[]> {
    return this.dataSource.manager.find(User, {
      where: { isPlatformAdmin: true },
      order: { createdAt: 'ASC' },
    });
  }

  private async freeUsername(manager: EntityManager, wanted: string): Promise<string> {
    for (let candidate = wanted; ;) {
      if (!(await manager.existsBy(User, { username: candidate }))) return candidate;
      candidate = `${wanted}-${randomBytes(3).toString('hex')}`;
    }
  }
}
