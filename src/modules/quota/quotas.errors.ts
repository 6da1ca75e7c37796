import { err } from '../../common/app-error.js';

export const QuotaErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'Quota not found'),
  keyNotFound: err('RESOURCE_NOT_FOUND', 'API key not found'),
  organizationNotFound: err('RESOURCE_NOT_FOUND', 'Organization not found'),
  tooMany: err('CONFLICT', 'A key or an organization may have at most 10 quotas'),
};
