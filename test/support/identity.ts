import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import type { Role } from '../../src/common/permissions.js';
import { type TestApp, json } from './test-app.js';

export const PASSWORD = 'correct horse battery staple';

export interface Account {
  userId: string;
  username: string;
  email: string;
  organizationId: string;
  accessToken: string;
  refreshToken: string;
  /** Headers that authenticate as this account. */
  auth: Record<string, string>;
}

export function uniqueName(prefix = 'user'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

interface TokenBody {
  access_token: string;
  refresh_token: string;
  user: { id: string; username: string; email: string };
}

export async function login(
  api: Pick<TestApp, 'call'>,
  loginName: string,
  organizationId?: string,
): Promise<Account> {
  const response = await api.call(
    '/api/v1/auth/login',
    json('POST', {
      login: loginName,
      password: PASSWORD,
      ...(organizationId ? { organization_id: organizationId } : {}),
    }),
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as TokenBody;
  const me = await api.call('/api/v1/auth/me', {
    headers: { authorization: `Bearer ${body.access_token}` },
  });
  const { data } = (await me.json()) as { data: { organization_id: string } };
  return {
    userId: body.user.id,
    username: body.user.username,
    email: body.user.email,
    organizationId: data.organization_id,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    auth: { authorization: `Bearer ${body.access_token}` },
  };
}

/** A new account that owns a new organization, logged in. */
export async function registerOwner(
  api: Pick<TestApp, 'call'>,
  prefix = 'owner',
): Promise<Account> {
  const username = uniqueName(prefix);
  const response = await api.call(
    '/api/v1/auth/register',
    json('POST', {
      username,
      email: `${username}@example.com`,
      password: PASSWORD,
      organization_name: `${username} inc`,
    }),
  );
  expect(response.status).toBe(201);
  return login(api, username);
}

/** A new user in the owner's organization with `role`, logged in there. */
export async function addMember(api: TestApp, owner: Account, role: Role): Promise<Account> {
  const username = uniqueName(role);
  const response = await api.call(
    '/api/v1/users',
    json(
      'POST',
      { username, email: `${username}@example.com`, password: PASSWORD, role },
      owner.auth,
    ),
  );
  expect(response.status).toBe(201);
  return login(api, username, owner.organizationId);
}

/** JSON request init authenticated as `account`. */
export function as(account: Account, method: string, body?: unknown): RequestInit {
  return body === undefined ? { method, headers: account.auth } : json(method, body, account.auth);
}

interface InvitationBody {
  id: string;
  organization_id: string;
  user_id: string;
  role: Role;
  status: 'invited';
}

/** The holder's pending invitations (GET /auth/invitations). */
export async function invitationsOf(api: TestApp, holder: Account): Promise<InvitationBody[]> {
  const response = await api.call('/api/v1/auth/invitations?limit=100', as(holder, 'GET'));
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: InvitationBody[] }).data;
}

/**
 * An existing account joins the inviter's organization the only way there is: invited
 * (by email), then accepting. Returns the holder logged in there.
 */
export async function inviteAndAccept(
  api: TestApp,
  inviter: Account,
  holder: Account,
  role: Role,
): Promise<Account> {
  const invited = await api.call(
    `/api/v1/organizations/${inviter.organizationId}/members`,
    as(inviter, 'POST', { email: holder.email, role }),
  );
  expect(invited.status).toBe(202);
  const { data } = (await invited.json()) as { data: InvitationBody };
  const accepted = await api.call(`/api/v1/auth/invitations/${data.id}/accept`, as(holder, 'POST'));
  expect(accepted.status).toBe(200);
  return login(api, holder.username, inviter.organizationId);
}
