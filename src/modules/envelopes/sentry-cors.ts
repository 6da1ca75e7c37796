/** The envelope route's path, with or without the /v1 segment and the trailing slash. */
const ENVELOPE_PATH = /^\/api\/(?:v1\/)?[^/?]+\/envelope\/?(?:\?|$)/;

/** Whether `url` (path and query) is the envelope route's. */
export function isEnvelopeUrl(url: string): boolean {
  return ENVELOPE_PATH.test(url);
}

/**
 * CORS for the envelope route, as Relay answers it: browser SDKs post from any origin (their
 * users' sites), with the DSN's public key, which is no secret, and no cookies. So any origin,
 * POST, the headers SDKs send, and the headers they read back (their rate-limit state).
 */
export const SENTRY_CORS = {
  origin: '*',
  methods: ['POST'],
  allowedHeaders: [
    'x-sentry-auth',
    'x-requested-with',
    'x-forwarded-for',
    'origin',
    'referer',
    'accept',
    'content-type',
    'authentication',
    'authorization',
    'content-encoding',
    'transfer-encoding',
    'baggage',
    'sentry-trace',
  ],
  exposedHeaders: ['x-sentry-error', 'x-sentry-rate-limits', 'retry-after', 'x-request-id'],
  maxAge: 3600,
};
