/** Shared by the tenancy, roles and membership specs: the contract's shapes and assertions. */
import { expect } from '@jest/globals';
import { type Account, PASSWORD, as, uniqueName } from './identity.js';
import type { TestApp } from './test-app.js';

export interface ApiError {
  code: string;
  message: string;
  details: unknown;
  request_id: string;
}
export interface ErrorBody {
  error: ApiError;
}
export interface One<T> {
  data: T;
}
export interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}
export interface UserRow {
  id: string;
  username: string;
  email: string;
  full_name: string | null;
  role: string;
  is_platform_admin: boolean;
  updated_at: string;
}
export interface ProjectRow {
  id: number;
  organization_id: string;
  name: string;
  slug: string;
  platform: string | null;
  updated_at: string;
}
export interface OrganizationRow {
  id: string;
  name: string;
  slug: string;
  role: string;
  updated_at: string;
}
export interface MemberRow {
  user_id: string;
  email: string;
  role: string;
}
export interface AuditRow {
  id: string;
  action: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  organization_id: string | null;
}

/** Asserts the status (showing the body when it differs) and returns the parsed body. */
export async function expectStatus<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Asserts an error response of the contract's shape, with this status and code. */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<ApiError> {
  const body = await expectStatus<ErrorBody>(response, status);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.request_id).toBe(response.headers.get('x-request-id'));
  return body.error;
}

export function slug(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, '-');
}

export function newUserBody(prefix = 'user'): {
  username: string;
  email: string;
  password: string;
} {
  const username = uniqueName(prefix);
  return { username, email: `${username}@example.com`, password: PASSWORD };
}

/** Requests the tenancy specs repeat, against the spec's app (read when called). */
export function tenancyHelpers(app: () => TestApp) {
  async function get<T>(account: Account, path: string): Promise<T> {
    return expectStatus<T>(await app().call(path, as(account, 'GET')), 200);
  }

  async function createProject(account: Account, name = uniqueName('project')) {
    const response = await app().call('/api/v1/projects', as(account, 'POST', { name }));
    return (await expectStatus<One<ProjectRow>>(response, 201)).data;
  }

  async function members(account: Account): Promise<MemberRow[]> {
    const path = `/api/v1/organizations/${account.organizationId}/members?limit=100`;
    return (await get<Page<MemberRow>>(account, path)).data;
  }

  function roles(rows: MemberRow[]): Record<string, string> {
    return Object.fromEntries(rows.map((row) => [row.user_id, row.role]));
  }

  async function usersWithEmail(account: Account, email: string): Promise<number> {
    const path = `/api/v1/users?email=${encodeURIComponent(email)}`;
    return (await get<Page<UserRow>>(account, path)).total;
  }

  return { get, createProject, members, roles, usersWithEmail };
}
