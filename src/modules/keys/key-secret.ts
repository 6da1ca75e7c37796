import { createHash, hash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const SECRET = /^sk_(live|test)_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;
/** `sk_live_` (or `sk_test_`), the body and the checksum. */
export const SECRET_LENGTH = 'sk_live_'.length + BODY_LENGTH + CHECKSUM_LENGTH;
/** What displayPrefix keeps: the environment and 6 characters of the body. */
export const DISPLAY_PREFIX_LENGTH = 'sk_live_'.length + 6;

export type Environment = 'live' | 'test';

function base62(bytes: Buffer, length: number): string {
  let out = '';
  for (const byte of bytes) {
    if (out.length === length) break;
    // 248 = 4 * 62: rejecting bytes at or above it keeps every character equally likely.
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

function checksum(environment: string, body: string): string {
  const digest = createHash('sha256').update(`${environment}:${body}`).digest();
  let value = digest.readUInt32BE(0) * 2 ** 16 + digest.readUInt16BE(4);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i += 1) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** `sk_live_` or `sk_test_`, 32 random base62 characters (190 bits), a 6-character checksum. */
export function generateSecret(environment: Environment): string {
  let body = '';
  while (body.length < BODY_LENGTH) body += base62(randomBytes(48), BODY_LENGTH - body.length);
  return `sk_${environment}_${body}${checksum(environment, body)}`;
}

/** The environment of a well-formed secret, or null: a typo or a forgery costs no lookup. */
export function parseSecret(secret: string): Environment | null {
  const match = SECRET.exec(secret);
  if (match === null) return null;
  const [, environment, body, sum] = match;
  if (environment === undefined || body === undefined || checksum(environment, body) !== sum)
    return null;
  return environment as Environment;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * The same SHA-256 in base64 (the key cache's key, `hashKeyOf(hashSecret(secret))`), in one
 * call: a quarter of the cost of a Hash object, once per API-key request.
 */
export function secretHashKey(secret: string): string {
  return hash('sha256', secret, 'base64');
}

/** What is shown instead of the secret: enough to recognise a key, nothing to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}
