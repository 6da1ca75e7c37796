import type { EntityManager } from 'typeorm';
import type { Role } from '../../common/permissions.js';
import { Membership } from './membership.entity.js';
import { OrganizationErrors } from './organizations.errors.js';

/**
 * Membership changes as transaction steps, used by every repository that changes who
 * belongs to an organization (users, members). Each keeps the invariant that an
 * organization always has at least one owner: the owners' rows are locked first, so two
 * concurrent demotions cannot both pass the check.
 */
async function assertAnotherOwner(
  manager: EntityManager,
  organizationId: string,
  userId: string,
): Promise<void> {
  const owners: { user_id: string }[] = await manager.query(
    "SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' FOR UPDATE",
    [organizationId],
  );
  if (!owners.some((owner) => owner.user_id !== userId)) throw OrganizationErrors.lastOwner();
}

export async function findMembership(
  manager: EntityManager,
  organizationId: string,
  userId: string,
): Promise<Membership | null> {
  return manager.findOne(Membership, {
    where: { organizationId, userId },
    lock: { mode: 'pessimistic_write' },
  });
}

/** Changes a member's role; demoting the last owner is a 409. Returns the previous role. */
export async function changeRole(
  manager: EntityManager,
  membership: Membership,
  role: Role,
): Promise<Role> {
  const previous = membership.role;
  if (previous === role) return previous;
  if (previous === 'owner')
    await assertAnotherOwner(manager, membership.organizationId, membership.userId);
  await manager.update(
    Membership,
    { organizationId: membership.organizationId, userId: membership.userId },
    { role },
  );
  return previous;
}

/** Removes a member; removing the last owner is a 409. */
export async function removeMembership(
  manager: EntityManager,
  membership: Membership,
): Promise<void> {
  if (membership.role === 'owner')
    await assertAnotherOwner(manager, membership.organizationId, membership.userId);
  await manager.delete(Membership, {
    organizationId: membership.organizationId,
    userId: membership.userId,
  });
}

/** Whether the user still belongs to any organization. */
export async function hasMemberships(manager: EntityManager, userId: string): Promise<boolean> {
  return (await manager.count(Membership, { where: { userId } })) > 0;
}
