import { err } from '../../common/app-error.js';

export const VersionErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'API version not found'),
  duplicate: err('CONFLICT', 'This API version already exists'),
  lastStable: err(
    'CONFLICT',
    'This is the only stable API version; make another one stable before deleting it',
  ),
  platformAdminOnly: err('PERMISSION_DENIED', 'Only platform administrators manage API versions'),
  sunset: err('API_VERSION_SUNSET', 'This API version has been sunset'),
};
