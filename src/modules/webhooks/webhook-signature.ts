import { createHmac, randomBytes } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com) secrets and signatures. A secret is
 * `whsec_` + base64 of its key bytes; a signature is `v1,` + base64 HMAC-SHA256, keyed with
 * those bytes, of `{webhook-id}.{webhook-timestamp}.{body}`.
 */
export const SECRET_PREFIX = 'whsec_';
/** Key bytes of a generated secret. */
export const SECRET_BYTES = 32;
/** Key bytes a caller's own secret may have (the spec's recommended 24 to 64). */
export const SECRET_MIN_BYTES = 24;
export const SECRET_MAX_BYTES = 64;
/** The longest secret text: `whsec_` + base64 of 64 bytes. */
export const SECRET_MAX_LENGTH = SECRET_PREFIX.length + Math.ceil(SECRET_MAX_BYTES / 3) * 4;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** How long a rotated-out secret keeps signing alongside the new one: 24 h. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** The key bytes of a well-formed secret, or null when it is not one. */
export function secretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= SECRET_MIN_BYTES && key.length <= SECRET_MAX_BYTES ? key : null;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three Standard Webhooks headers for `body`, sent at `at` (whole seconds). */
export function signWebhook(secret: string, id: string, at: Date, body: string): SignedHeaders {
  const key = secretKey(secret);
  if (key === null) throw new Error('webhook secret is malformed');
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

/**
 * The headers signed with each of `secrets` (the current one first): Standard Webhooks
 * verifiers accept a `webhook-signature` of several space-separated `v1,` signatures if any
 * one of them matches.
 */
export function signWebhookWithAll(
  secrets: readonly string[],
  id: string,
  at: Date,
  body: string,
): SignedHeaders {
  const signed = secrets.map((secret) => signWebhook(secret, id, at, body));
  const [first] = signed;
  if (first === undefined) throw new Error('no webhook secret to sign with');
  return {
    ...first,
    'webhook-signature': signed.map((headers) => headers['webhook-signature']).join(' '),
  };
}
