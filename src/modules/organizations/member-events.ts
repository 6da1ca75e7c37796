import type { EntityManager } from 'typeorm';
import { User } from '../users/user.entity.js';
import { addOutboxEvent } from '../webhooks/outbox-writer.js';
import type { Membership } from './membership.entity.js';
import type { MemberResponse } from './organizations.dto.js';
import type { MemberRow } from './organizations.repository.js';

/** A member as the API returns it (and as membership events carry it). */
export function toMember({ user, role, joinedAt }: MemberRow): MemberResponse {
  return {
    user_id: user.id,
    status: 'active',
    username: user.username,
    email: user.email,
    full_name: user.fullName,
    role,
    joined_at: joinedAt.toISOString(),
    invitation_id: null,
    expires_at: null,
  };
}

/**
 * Writes `organization.member_added` or `organization.member_removed` for the user to the
 * outbox, in the transaction of the membership change.
 */
export async function addMemberEvent(
  manager: EntityManager,
  type: 'organization.member_added' | 'organization.member_removed',
  membership: Pick<Membership, 'organizationId' | 'userId' | 'role' | 'createdAt'>,
): Promise<void> {
  const { organizationId, userId, role, createdAt: joinedAt } = membership;
  const user = await manager.findOneByOrFail(User, { id: userId });
  const data = { ...toMember({ user, role, joinedAt }), organization_id: organizationId };
  await addOutboxEvent(manager, { organizationId, type, data });
}
