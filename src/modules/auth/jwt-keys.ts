import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthConfig } from '../../config/config.classes.js';
import { KEY_ID_LENGTH } from './access-token.js';

/** A key id derived from the secret, so rotating JWT_SECRET needs no separate id setting. */
export function keyIdOf(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, KEY_ID_LENGTH);
}

/**
 * The HMAC keys for access tokens: JWT_SECRET signs; it and JWT_PREVIOUS_SECRETS verify,
 * chosen by the token's `kid`, so JWT_SECRET can be rotated without logging everyone out.
 */
@Injectable()
export class JwtKeys {
  readonly signingKeyId: string;
  readonly signingSecret: string;
  private readonly byId: Map<string, string>;

  constructor(config: AuthConfig) {
    this.signingSecret = config.jwtSecret;
    this.signingKeyId = keyIdOf(config.jwtSecret);
    this.byId = new Map(
      [config.jwtSecret, ...config.jwtPreviousSecrets].map((secret) => [keyIdOf(secret), secret]),
    );
  }

  /** The secret for a raw token's `kid`, or undefined for a token we never issued. */
  secretFor(rawToken: string): string | undefined {
    const header = rawToken.split('.')[0];
    if (header === undefined) return undefined;
    try {
      const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as {
        kid?: unknown;
        alg?: unknown;
      };
      return alg === 'HS256' && typeof kid === 'string' ? this.byId.get(kid) : undefined;
    } catch {
      return undefined;
    }
  }
}
