import { err } from '../../common/app-error.js';

export const OrganizationErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'Organization not found'),
  memberNotFound: err('RESOURCE_NOT_FOUND', 'Member not found'),
  userNotFound: err('RESOURCE_NOT_FOUND', 'User not found'),
  invitationNotFound: err('RESOURCE_NOT_FOUND', 'Invitation not found (or expired)'),
  lastOwner: err('CONFLICT', 'An organization must keep at least one owner'),
  alreadyMember: err('CONFLICT', 'The user is already a member of this organization'),
  alreadyInvited: err('CONFLICT', 'The user already has a pending invitation to this organization'),
  slugTaken: err('CONFLICT', 'An organization with this slug already exists'),
  ownerGrant: err('PERMISSION_DENIED', 'Only an owner can make someone an owner'),
  roleNeedsMembersWrite: err(
    'PERMISSION_DENIED',
    "Setting a user's role requires the members:write permission",
  ),
  higherRank: err(
    'PERMISSION_DENIED',
    'You cannot change or remove a member of a higher rank than yours',
  ),
  keysCannotGrant: err(
    'PERMISSION_DENIED',
    'An API key cannot give or change roles: that is a decision for a person (sign in as an owner or admin)',
  ),
  keysCannotCreate: err(
    'PERMISSION_DENIED',
    'An API key belongs to one organization and cannot create others',
  ),
  tierChange: err(
    'PERMISSION_DENIED',
    "Only a platform administrator can change an organization's tier or its own rate limits",
  ),
  planOnly: err(
    'PERMISSION_DENIED',
    "A platform administrator changes only the tier and rate_limits of an organization other than the token's (PATCH); its other fields are its own administrators' to change",
  ),
  usersOnly: err('PERMISSION_DENIED', 'Invitations belong to a person: sign in with a user token'),
};
