import { type Role, ROLE_RANK, allows } from '../../common/permissions.js';
import { type Principal, actingRole } from '../../common/principal.js';
import { OrganizationErrors } from './organizations.errors.js';

/**
 * Who may change whom in an organization (API.md, "Authentication"): rank owner > admin >
 * member > viewer; nobody changes or removes someone of a higher rank; roles are granted with
 * members:write, never above one's own rank, owner only by an owner; and API keys never
 * decide roles (those are people's decisions). Shared by the users and members routes.
 */

function isSelf(principal: Principal, userId: string): boolean {
  return principal.type === 'user' && principal.userId === userId;
}

/** Changing or removing `target`: allowed on oneself and on members of the same or lower rank. */
export function assertMayManage(
  principal: Principal,
  target: { userId: string; role: Role },
): void {
  if (isSelf(principal, target.userId)) return;
  if (ROLE_RANK[actingRole(principal)] < ROLE_RANK[target.role])
    throw OrganizationErrors.higherRank();
}

/** Giving someone `role` (at creation, invitation or change). */
export function assertMayGrant(principal: Principal, role: Role): void {
  if (principal.type === 'api_key') throw OrganizationErrors.keysCannotGrant();
  if (!allows(principal.permissions, 'members:write'))
    throw OrganizationErrors.roleNeedsMembersWrite();
  if (role === 'owner' && principal.role !== 'owner') throw OrganizationErrors.ownerGrant();
  if (ROLE_RANK[principal.role] < ROLE_RANK[role]) throw OrganizationErrors.ownerGrant();
}

/** Whether the caller strictly outranks `role` (an administrator's password reset needs it). */
export function outranks(principal: Principal, role: Role): boolean {
  return ROLE_RANK[actingRole(principal)] > ROLE_RANK[role];
}
