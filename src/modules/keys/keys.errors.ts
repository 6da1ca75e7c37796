import { err } from '../../common/app-error.js';

export const KeyErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'API key not found'),
  invalid: err('API_KEY_INVALID', 'The API key is invalid'),
  revoked: err('API_KEY_REVOKED', 'The API key has been revoked'),
  expired: err('API_KEY_EXPIRED', 'The API key has expired'),
  ipNotAllowed: err(
    'IP_NOT_ALLOWED',
    "The request's IP address is not in the API key's allowed_ips",
  ),
  projectNotFound: err('RESOURCE_NOT_FOUND', 'Project not found'),
  permissionNotHeld: err(
    'PERMISSION_DENIED',
    'A key cannot be given permissions its creator does not hold',
  ),
  rotateNotHeld: err(
    'PERMISSION_DENIED',
    'Rotating hands over the key: only a caller holding every permission of the key may rotate it',
  ),
  rotateRevoked: err('CONFLICT', 'A revoked key cannot be rotated'),
  expiresInPast: err('VALIDATION_ERROR', 'expires_at must be in the future'),
};
