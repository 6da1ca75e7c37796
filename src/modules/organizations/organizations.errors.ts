import { err } from '../../common/app-error.js';

export const OrganizationErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'Organization not found'),
  memberNotFound: err('RESOURCE_NOT_FOUND', 'Member not found'),
  userNotFound: err('RESOURCE_NOT_FOUND', 'User not found'),
  lastOwner: err('CONFLICT', 'An organization must keep at least one owner'),
  alreadyMember: err('CONFLICT', 'The user is already a member of this organization'),
  slugTaken: err('CONFLICT', 'An organization with this slug already exists'),
  ownerGrant: err('PERMISSION_DENIED', 'Only an owner can make someone an owner'),
  keysCannotCreate: err(
    'PERMISSION_DENIED',
    'An API key belongs to one organization and cannot create others',
  ),
  tierChange: err(
    'PERMISSION_DENIED',
    "Only a platform administrator can change an organization's tier or its own rate limits",
  ),
};
