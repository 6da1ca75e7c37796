import { err } from '../../common/app-error.js';

export const AuthErrors = {
  invalidCredentials: err('AUTHENTICATION_FAILED', 'Invalid login or password'),
  required: err(
    'AUTHENTICATION_FAILED',
    'Authentication required: send Authorization: Bearer <token> or X-API-Key',
  ),
  invalidToken: err('AUTHENTICATION_FAILED', 'The access token is invalid'),
  apiKeyAsBearer: err(
    'AUTHENTICATION_FAILED',
    'An API key goes in the X-API-Key header, not in Authorization: Bearer (which takes an access token from POST /api/v1/auth/login)',
  ),
  expired: err('TOKEN_EXPIRED', 'The access token has expired; refresh it'),
  invalidRefresh: err('AUTHENTICATION_FAILED', 'The refresh token is invalid, expired or revoked'),
  refreshReused: err(
    'AUTHENTICATION_FAILED',
    'The refresh token was already used; its session has been revoked',
  ),
  wrongCurrentPassword: err(
    'AUTHENTICATION_FAILED',
    'current_password is not the account password',
  ),
  invalidResetToken: err(
    'AUTHENTICATION_FAILED',
    'The reset token is invalid, expired or already used',
  ),
  usersOnly: err(
    'PERMISSION_DENIED',
    'Only a user token can change its account; this is an API key',
  ),
  notMember: err('AUTHENTICATION_FAILED', 'Invalid login or password'),
  permissionDenied: (permission: string) =>
    err('PERMISSION_DENIED', `This action requires the ${permission} permission`)(),
  noPermissionDeclared: err('PERMISSION_DENIED', 'This route is not available to any credential'),
};
