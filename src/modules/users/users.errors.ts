import { err } from '../../common/app-error.js';

export const UserErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'User not found'),
  duplicate: err('CONFLICT', 'A user with this username or email already exists'),
  roleNeedsMembersWrite: err(
    'PERMISSION_DENIED',
    "Setting a user's role requires the members:write permission",
  ),
  ownerGrant: err('PERMISSION_DENIED', 'Only an owner can make someone an owner'),
};
