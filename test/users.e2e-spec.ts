import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type Account,
  PASSWORD,
  as,
  login,
  registerOwner,
  uniqueName,
} from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';

interface UserBody {
  id: string;
  username: string;
  email: string;
  full_name: string | null;
  telegram_chat_id: string | null;
  role: string;
}

interface AuditBody {
  data: {
    action: string;
    target: { id: string } | null;
    changes: Record<string, unknown> | null;
  }[];
  total: number;
}

describe('users', () => {
  let api: TestApp;
  let owner: Account;

  beforeAll(async () => {
    api = await startApp();
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await api.close();
  });

  async function createUser(body: Record<string, unknown> = {}): Promise<UserBody> {
    const username = uniqueName('u');
    const response = await api.call(
      '/api/v1/users',
      as(owner, 'POST', {
        username,
        email: `${username}@example.com`,
        password: PASSWORD,
        ...body,
      }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: UserBody }).data;
  }

  async function auditFor(targetId: string): Promise<AuditBody> {
    const response = await api.call(
      `/api/v1/audit?target_id=${targetId}&limit=100`,
      as(owner, 'GET'),
    );
    return (await response.json()) as AuditBody;
  }

  it('creates a member by default, who can log in, with an audit entry and no password anywhere', async () => {
    const user = await createUser({ full_name: 'Grace Hopper', telegram_chat_id: '4242' });
    expect(user).toMatchObject({
      role: 'member',
      full_name: 'Grace Hopper',
      telegram_chat_id: '4242',
    });
    expect(JSON.stringify(user)).not.toMatch(/password|hash/i);
    const session = await login(api, user.username, owner.organizationId);
    expect(session.organizationId).toBe(owner.organizationId);
    const audit = await auditFor(user.id);
    expect(audit.data.map((entry) => entry.action)).toEqual(['auth.login', 'user.created']);
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it('gets, lists with pagination and filters by email and q', async () => {
    const created = await createUser({ full_name: 'Unique Searchable Name' });
    const get = await api.call(`/api/v1/users/${created.id}`, as(owner, 'GET'));
    expect(((await get.json()) as { data: UserBody }).data).toEqual(created);

    const byEmail = await api.call(
      `/api/v1/users?email=${created.email.toUpperCase()}`,
      as(owner, 'GET'),
    );
    const emailBody = (await byEmail.json()) as { data: UserBody[]; total: number };
    expect(emailBody.total).toBe(1);
    expect(emailBody.data[0]?.id).toBe(created.id);

    const byQ = await api.call('/api/v1/users?q=searchable', as(owner, 'GET'));
    expect(((await byQ.json()) as { data: UserBody[] }).data.map((u) => u.id)).toEqual([
      created.id,
    ]);

    const pageOne = await api.call('/api/v1/users?limit=1&offset=1', as(owner, 'GET'));
    const pageBody = (await pageOne.json()) as {
      data: UserBody[];
      total: number;
      limit: number;
      offset: number;
    };
    expect(pageBody.limit).toBe(1);
    expect(pageBody.offset).toBe(1);
    expect(pageBody.data).toHaveLength(1);
    expect(pageBody.total).toBeGreaterThanOrEqual(3);
  });

  it('PATCH changes only the fields sent and records a diff', async () => {
    const user = await createUser({ full_name: 'Before', telegram_chat_id: '1' });
    const response = await api.call(
      `/api/v1/users/${user.id}`,
      as(owner, 'PATCH', { full_name: 'After' }),
    );
    expect(response.status).toBe(200);
    const updated = ((await response.json()) as { data: UserBody }).data;
    expect(updated).toMatchObject({ full_name: 'After', telegram_chat_id: '1', email: user.email });
    const entry = (await auditFor(user.id)).data.find((e) => e.action === 'user.updated');
    expect(entry?.changes).toEqual({ full_name: { from: 'Before', to: 'After' } });
  });

  it('PUT replaces what the organization owns: optional fields left out are cleared; username and email may be sent unchanged', async () => {
    const user = await createUser({ full_name: 'Full', telegram_chat_id: '77' });
    const response = await api.call(
      `/api/v1/users/${user.id}`,
      as(owner, 'PUT', { username: user.username, email: user.email, role: 'viewer' }),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: UserBody }).data).toMatchObject({
      full_name: null,
      telegram_chat_id: null,
      role: 'viewer',
    });
    const withoutRole = await api.call(`/api/v1/users/${user.id}`, as(owner, 'PUT', {}));
    expect(withoutRole.status).toBe(400);
  });

  it("username, email and password through /users are 403 PERMISSION_DENIED naming the holder's route; nothing changes, no audit entry", async () => {
    const first = await createUser();
    const second = await createUser({ full_name: 'Unchanged' });
    for (const [method, body] of [
      ['PATCH', { email: first.email.toUpperCase(), full_name: 'Changed' }],
      ['PATCH', { username: uniqueName('renamed') }],
      ['PATCH', { password: 'a new password 123' }],
      ['PUT', { role: 'member', password: 'a new password 123' }],
      ['PUT', { role: 'member', email: `${uniqueName()}@example.com` }],
    ] as const) {
      const response = await api.call(`/api/v1/users/${second.id}`, as(owner, method, body));
      expect(response.status).toBe(403);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.message).toContain('PATCH /api/v1/auth/me');
    }
    const after = await api.call(`/api/v1/users/${second.id}`, as(owner, 'GET'));
    expect(((await after.json()) as { data: UserBody }).data).toEqual(second);
    expect((await auditFor(second.id)).data.map((e) => e.action)).toEqual(['user.created']);
    const stillWorks = await login(api, second.username, owner.organizationId);
    expect(stillWorks.userId).toBe(second.id);
  });

  it('rolls back the whole change when the role part fails (last owner), leaving no audit entry', async () => {
    const response = await api.call(
      `/api/v1/users/${owner.userId}`,
      as(owner, 'PATCH', { full_name: 'Should not stick', role: 'admin' }),
    );
    expect(response.status).toBe(409);
    const me = await api.call(`/api/v1/users/${owner.userId}`, as(owner, 'GET'));
    expect(((await me.json()) as { data: UserBody }).data).toMatchObject({
      full_name: null,
      role: 'owner',
    });
    expect((await auditFor(owner.userId)).data.some((e) => e.action === 'user.updated')).toBe(
      false,
    );
  });

  it('DELETE removes the user (204) and the account when it belongs nowhere else', async () => {
    const user = await createUser();
    const response = await api.call(`/api/v1/users/${user.id}`, as(owner, 'DELETE'));
    expect(response.status).toBe(204);
    expect((await api.call(`/api/v1/users/${user.id}`, as(owner, 'GET'))).status).toBe(404);
    const relogin = await api.call('/api/v1/auth/login', {
      method: 'POST',
      body: JSON.stringify({ login: user.username, password: PASSWORD }),
      headers: { 'content-type': 'application/json' },
    });
    expect(relogin.status).toBe(401);
    expect((await auditFor(user.id)).data.map((e) => e.action)).toEqual([
      'user.deleted',
      'user.created',
    ]);
  });

  it('batch: results in request order, one bad item does not stop the others', async () => {
    const good = uniqueName('batch');
    const dup = await createUser();
    const response = await api.call(
      '/api/v1/users/batch',
      as(owner, 'POST', {
        users: [
          { username: good, email: `${good}@example.com` },
          { username: 'x', email: 'not-an-email' },
          { username: uniqueName('dup'), email: dup.email },
          {
            username: uniqueName('adm'),
            email: `${uniqueName()}@example.com`,
            is_platform_admin: true,
          },
          'not an object',
        ],
      }),
    );
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as {
      data: { index: number; status: number; data?: UserBody; error?: { code: string } }[];
    };
    expect(data.map((item) => [item.index, item.status, item.error?.code])).toEqual([
      [0, 201, undefined],
      [1, 400, 'VALIDATION_ERROR'],
      [2, 409, 'CONFLICT'],
      [3, 400, 'VALIDATION_ERROR'],
      [4, 400, 'VALIDATION_ERROR'],
    ]);
    expect(data[0]?.data?.username).toBe(good);
  });

  it('batch: 400 for an empty list or more than 100 items', async () => {
    for (const users of [[], Array.from({ length: 101 }, () => ({}))]) {
      const response = await api.call('/api/v1/users/batch', as(owner, 'POST', { users }));
      expect(response.status).toBe(400);
    }
  });

  it('400 for an id that is not a UUID', async () => {
    expect((await api.call('/api/v1/users/123', as(owner, 'GET'))).status).toBe(400);
  });
});
