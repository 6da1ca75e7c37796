import { err } from '../../common/app-error.js';

export const AuthErrors = {
  invalidCredentials: err('AUTHENTICATION_FAILED', 'Invalid login or password'),
  required: err(
    'AUTHENTICATION_FAILED',
    'Authentication required: send Authorization: Bearer <token> or X-API-Key',
  ),
  invalidToken: err('AUTHENTICATION_FAILED', 'The access token is invalid'),
  expired: err('TOKEN_EXPIRED', 'The access token has expired; refresh it'),
  invalidRefresh: err('AUTHENTICATION_FAILED', 'The refresh token is invalid, expired or revoked'),
  refreshReused: err(
    'AUTHENTICATION_FAILED',
    'The refresh token was already used; its session has been revoked',
  ),
  notMember: err('AUTHENTICATION_FAILED', 'Invalid login or password'),
  permissionDenied: (permission: string) =>
    err('PERMISSION_DENIED', `This action requires the ${permission} permission`)(),
  noPermissionDeclared: err('PERMISSION_DENIED', 'This route is not available to any credential'),
};
