import { err } from '../../common/app-error.js';

export const EnvelopeIngestErrors = {
  unknownProject: err('RESOURCE_NOT_FOUND', 'Project not found'),
  missingKey: err(
    'AUTHENTICATION_FAILED',
    "Sentry authentication required: the DSN's public key as X-Sentry-Auth sentry_key, the sentry_key query parameter or the envelope header's dsn",
  ),
  wrongKey: err('AUTHENTICATION_FAILED', "The sentry_key is not this project's public key"),
  overLimit: err('RATE_LIMIT_EXCEEDED', "Over the project's ingest rate limit"),
};
