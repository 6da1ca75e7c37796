import { err } from '../../common/app-error.js';

const ASK_THE_HOLDER = 'ask the account holder to change it themselves (PATCH /api/v1/auth/me)';

export const UserErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'User not found'),
  duplicate: err('CONFLICT', 'A user with this username or email already exists'),
  accountField: (field: string) =>
    err(
      'PERMISSION_DENIED',
      `${field} belongs to the account holder, not to the organization: ${ASK_THE_HOLDER}`,
    )(),
  sharedAccount: err(
    'PERMISSION_DENIED',
    `This account also belongs to another organization, so its full_name and telegram_chat_id are the holder's: ${ASK_THE_HOLDER}`,
  ),
  keysCannotSetPasswords: err(
    'PERMISSION_DENIED',
    'An API key cannot create an account with a password: leave it out, or ask a person to create the account',
  ),
  keysCannotReset: err(
    'PERMISSION_DENIED',
    "An API key cannot reset a password: that is a person's decision",
  ),
  resetShared: err(
    'PERMISSION_DENIED',
    'This account also belongs to another organization: only its holder can change its password (PATCH /api/v1/auth/me)',
  ),
  resetRank: err(
    'PERMISSION_DENIED',
    "Only someone of a higher rank than the account's role can reset its password",
  ),
};
