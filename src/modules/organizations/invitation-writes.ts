import { type EntityManager, LessThanOrEqual } from 'typeorm';
import type { Role } from '../../common/permissions.js';
import type { RequestContext } from '../../common/request-context.js';
import { recordAudit } from '../audit/audit-record.js';
import { Invitation } from './invitation.entity.js';
import { Membership } from './membership.entity.js';
import { Organization } from './organization.entity.js';
import { OrganizationErrors } from './organizations.errors.js';

export const INVITATION_TTL_MS = 7 * 86_400_000;

/** An invitation with the name of the organization it is to, as its responses show it. */
export interface InvitationRow {
  invitation: Invitation;
  organizationName: string;
}

/**
 * Invites an existing account as a transaction step, shared by the users routes (create with
 * an email that has an account) and the members routes (add by email or user_id). A member
 * already, or a pending invitation: 409. An expired invitation is replaced.
 */
export async function inviteToOrganization(
  manager: EntityManager,
  ctx: RequestContext,
  invitation: { organizationId: string; userId: string; role: Role; email: string | null },
): Promise<Invitation> {
  const { organizationId, userId } = invitation;
  if ((await manager.countBy(Membership, { organizationId, userId })) > 0)
    throw OrganizationErrors.alreadyMember();
  await manager.delete(Invitation, {
    organizationId,
    userId,
    expiresAt: LessThanOrEqual(new Date()),
  });
  if ((await manager.countBy(Invitation, { organizationId, userId })) > 0)
    throw OrganizationErrors.alreadyInvited();
  const principal = ctx.principal;
  const created = await manager.save(
    manager.create(Invitation, {
      ...invitation,
      invitedByType: principal?.type === 'api_key' ? 'api_key' : 'user',
      invitedById:
        principal === undefined
          ? null
          : principal.type === 'user'
            ? principal.userId
            : principal.keyId,
      expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
    }),
  );
  await recordAudit(manager, ctx, {
    action: 'organization.member_invited',
    organizationId,
    target: { type: 'user', id: userId },
    changes: {
      invitation_id: created.id,
      role: invitation.role,
      email: invitation.email,
      expires_at: created.expiresAt.toISOString(),
    },
  });
  return created;
}

/**
 * The invite step of both invite routes (users and members): the invitation, then the
 * organization's name its response shows, read in the same transaction.
 */
export async function inviteWithOrganizationName(
  manager: EntityManager,
  ctx: RequestContext,
  invitation: { organizationId: string; userId: string; role: Role; email: string | null },
): Promise<InvitationRow> {
  const created = await inviteToOrganization(manager, ctx, invitation);
  const organization = await manager.findOneByOrFail(Organization, {
    id: invitation.organizationId,
  });
  return { invitation: created, organizationName: organization.name };
}
