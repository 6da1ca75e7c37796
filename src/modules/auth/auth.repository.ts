import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import type { Role } from '../../common/permissions.js';
import type { RequestContext } from '../../common/request-context.js';
import { recordAudit } from '../audit/audit-record.js';
import { Membership } from '../organizations/membership.entity.js';
import { RefreshToken } from './refresh-token.entity.js';

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export interface Session {
  userId: string;
  organizationId: string;
  role: Role;
  refreshToken: string;
  /** The refresh-token family: the session's id, carried by its access tokens (`sid`). */
  familyId: string;
}

export type RotateResult =
  { kind: 'rotated'; session: Session } | { kind: 'reused' } | { kind: 'invalid' };

/** Refresh-token families and the auth events of the audit trail. */
@Injectable()
export class AuthRepository {
  constructor(private readonly dataSource: DataSource) {}

  private async issue(
    manager: EntityManager,
    familyId: string,
    userId: string,
    organizationId: string,
    ttlDays: number,
  ): Promise<string> {
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    await manager.insert(RefreshToken, {
      familyId,
      userId,
      organizationId,
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(Date.now() + ttlDays * 86_400_000),
    });
    return token;
  }

  /** A successful login: a new token family and the `auth.login` entry, together. */
  async startSession(
    ctx: RequestContext,
    userId: string,
    organizationId: string,
    ttlDays: number,
  ): Promise<{ refreshToken: string; familyId: string }> {
    return this.dataSource.transaction(async (manager) => {
      const familyId = randomUUID();
      const token = await this.issue(manager, familyId, userId, organizationId, ttlDays);
      await recordAudit(manager, ctx, {
        action: 'auth.login',
        organizationId,
        actor: { type: 'user', id: userId },
        target: { type: 'user', id: userId },
      });
      return { refreshToken: token, familyId };
    });
  }

  async recordLoginFailure(
    ctx: RequestContext,
    login: string,
    userId: string | null,
  ): Promise<void> {
    await recordAudit(this.dataSource.manager, ctx, {
      action: 'auth.login_failed',
      organizationId: null,
      target: userId === null ? undefined : { type: 'user', id: userId },
      changes: { login },
    });
  }

  /**
   * Single use: the presented token is spent and a new one of the same family issued. A
   * token presented twice means it was stolen or replayed: the whole family is revoked (and
   * that revocation is committed) before the caller answers 401.
   */
  async rotate(ctx: RequestContext, token: string, ttlDays: number): Promise<RotateResult> {
    return this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(RefreshToken, {
        where: { tokenHash: hashRefreshToken(token) },
        lock: { mode: 'pessimistic_write' },
      });
      if (
        current === null ||
        current.revokedAt !== null ||
        current.expiresAt.getTime() <= Date.now()
      ) {
        return { kind: 'invalid' } as const;
      }
      if (current.usedAt !== null) {
        await manager.update(
          RefreshToken,
          { familyId: current.familyId, revokedAt: IsNull() },
          { revokedAt: new Date() },
        );
        await recordAudit(manager, ctx, {
          action: 'auth.refresh_reuse_detected',
          organizationId: current.organizationId,
          actor: { type: 'user', id: current.userId },
          target: { type: 'refresh_token_family', id: current.familyId },
        });
        return { kind: 'reused' } as const;
      }
      const membership = await manager.findOneBy(Membership, {
        organizationId: current.organizationId,
        userId: current.userId,
      });
      await manager.update(RefreshToken, { id: current.id }, { usedAt: new Date() });
      if (membership === null) {
        await manager.update(
          RefreshToken,
          { familyId: current.familyId },
          { revokedAt: new Date() },
        );
        return { kind: 'invalid' } as const;
      }
      const next = await this.issue(
        manager,
        current.familyId,
        current.userId,
        current.organizationId,
        ttlDays,
      );
      return {
        kind: 'rotated',
        session: {
          userId: current.userId,
          organizationId: current.organizationId,
          role: membership.role,
          refreshToken: next,
          familyId: current.familyId,
        },
      } as const;
    });
  }

  /** Logout: revokes the token's family. Unknown tokens are ignored (the answer is the same). */
  async endSession(ctx: RequestContext, token: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(RefreshToken, { tokenHash: hashRefreshToken(token) });
      if (current === null) return;
      await manager.update(
        RefreshToken,
        { familyId: current.familyId, revokedAt: IsNull() },
        { revokedAt: new Date() },
      );
      await recordAudit(manager, ctx, {
        action: 'auth.logout',
        organizationId: current.organizationId,
        actor: { type: 'user', id: current.userId },
        target: { type: 'refresh_token_family', id: current.familyId },
      });
    });
  }
}
