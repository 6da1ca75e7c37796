import type { Role } from '../../common/permissions.js';

export const ISSUER = 'gatehouse';
export const AUDIENCE = 'gatehouse-api';

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
