import { ROLES, type Role } from '../../common/permissions.js';

export const ISSUER = 'gatehouse';
export const AUDIENCE = 'gatehouse-api';
/** Characters of a signing key's id (the token header's `kid`). */
export const KEY_ID_LENGTH = 12;

/** The claims of a user's access token: who, in which organization, with which role. */
export interface AccessClaims {
  sub: string;
  org: string;
  role: Role;
  /** Platform administrator. */
  pa: boolean;
  /** The session (refresh-token family) the token was issued for; absent in older tokens. */
  sid?: string;
}

const LONGEST_UUID = '00000000-0000-0000-0000-000000000000';
const LONGEST_TIME = Number.MAX_SAFE_INTEGER;
const base64urlLength = (part: object) =>
  Buffer.from(JSON.stringify(part)).toString('base64url').length;

/**
 * The longest access token issued: header and claims at their longest (adding a claim to
 * AccessClaims fails to compile until it is counted here), HS256's 43-character signature.
 */
export const ACCESS_TOKEN_MAX_LENGTH =
  base64urlLength({ alg: 'HS256', typ: 'JWT', kid: 'k'.repeat(KEY_ID_LENGTH) }) +
  base64urlLength({
    ...({
      sub: LONGEST_UUID,
      org: LONGEST_UUID,
      role: ROLES.reduce((a, b) => (b.length > a.length ? b : a)),
      pa: false,
      sid: LONGEST_UUID,
    } satisfies Required<AccessClaims>),
    iat: LONGEST_TIME,
    exp: LONGEST_TIME,
    aud: AUDIENCE,
    iss: ISSUER,
  }) +
  '..'.length +
  43;
