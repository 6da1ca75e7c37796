import { err } from '../../common/app-error.js';

export const WebhookErrors = {
  notFound: err('RESOURCE_NOT_FOUND', 'Webhook endpoint not found'),
  deliveryNotFound: err('RESOURCE_NOT_FOUND', 'Webhook delivery not found'),
  inactive: err('CONFLICT', 'The webhook endpoint is disabled; set active to true first'),
};
