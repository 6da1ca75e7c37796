import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type Account,
  PASSWORD,
  addMember,
  as,
  registerOwner,
  uniqueName,
} from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';

/**
 * Tenancy and permissions (issue 4; API.md "Authentication" and "Users, organizations,
 * projects"): another organization's resources are 404 on every route and untouched, the
 * role table holds, mass assignment is refused, and an organization keeps an owner.
 */

/** Rows of the cross-tenant matrix (one request each) and the distinct id routes they cover. */
const CROSS_TENANT_MATRIX_ROWS = 23;
const CROSS_TENANT_DISTINCT_ROUTES = 16;

interface ApiError {
  code: string;
  message: string;
  details: unknown;
  request_id: string;
}
interface ErrorBody {
  error: ApiError;
}
interface One<T> {
  data: T;
}
interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}
interface UserRow {
  id: string;
  username: string;
  email: string;
  full_name: string | null;
  role: string;
  is_platform_admin: boolean;
  updated_at: string;
}
interface ProjectRow {
  id: number;
  organization_id: string;
  name: string;
  slug: string;
  platform: string | null;
  updated_at: string;
}
interface OrganizationRow {
  id: string;
  name: string;
  slug: string;
  role: string;
  updated_at: string;
}
interface MemberRow {
  user_id: string;
  email: string;
  role: string;
}
interface AuditRow {
  id: string;
  action: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  organization_id: string | null;
}

/** Asserts the status (showing the body when it differs) and returns the parsed body. */
async function expectStatus<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Asserts an error response of the contract's shape, with this status and code. */
async function expectError(response: Response, status: number, code: string): Promise<ApiError> {
  const body = await expectStatus<ErrorBody>(response, status);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.request_id).toBe(response.headers.get('x-request-id'));
  return body.error;
}

function slug(prefix: string): string {
  return uniqueName(prefix).replace(/_/g, '-');
}

function newUserBody(prefix = 'user'): { username: string; email: string; password: string } {
  const username = uniqueName(prefix);
  return { username, email: `${username}@example.com`, password: PASSWORD };
}

describe('tenancy and permissions (issue 4)', () => {
  let api: TestApp;

  async function get<T>(account: Account, path: string): Promise<T> {
    return expectStatus<T>(await api.call(path, as(account, 'GET')), 200);
  }

  async function createProject(account: Account, name = uniqueName('project')) {
    const response = await api.call('/api/v1/projects', as(account, 'POST', { name }));
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

  beforeAll(async () => {
    api = await startApp();
  });

  afterAll(async () => {
    await api.close();
  });

  describe('cross-tenant matrix', () => {
    interface Tenant {
      owner: Account;
      member: Account;
      project: ProjectRow;
    }
    interface MatrixRow {
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      route: string;
      path: string;
      body?: unknown;
    }
    interface Snapshot {
      owner: UserRow;
      member: UserRow;
      project: ProjectRow;
      projects: Page<ProjectRow>;
      organization: OrganizationRow;
      members: MemberRow[];
      audit: Page<AuditRow>;
    }

    let a: Tenant;
    let b: Tenant;
    let bBefore: Snapshot;
    let aAuditBefore: Page<AuditRow>;

    async function tenant(prefix: string): Promise<Tenant> {
      const owner = await registerOwner(api, `${prefix}_owner`);
      const member = await addMember(api, owner, 'member');
      const project = await createProject(owner);
      const response = await api.call(
        `/api/v1/users/${member.userId}`,
        as(owner, 'PATCH', { full_name: `${prefix} member` }),
      );
      await expectStatus(response, 200);
      return { owner, member, project };
    }

    async function snapshot(t: Tenant): Promise<Snapshot> {
      const { owner, member, project } = t;
      return {
        owner: (await get<One<UserRow>>(owner, `/api/v1/users/${owner.userId}`)).data,
        member: (await get<One<UserRow>>(owner, `/api/v1/users/${member.userId}`)).data,
        project: (await get<One<ProjectRow>>(owner, `/api/v1/projects/${project.id}`)).data,
        projects: await get<Page<ProjectRow>>(owner, '/api/v1/projects?limit=100'),
        organization: (
          await get<One<OrganizationRow>>(owner, `/api/v1/organizations/${owner.organizationId}`)
        ).data,
        members: await members(owner),
        audit: await get<Page<AuditRow>>(owner, '/api/v1/audit?limit=100'),
      };
    }

    /** Every route that takes an id, with B's ids and a body that would be valid in B. */
    function matrix(): MatrixRow[] {
      const A = a.owner.organizationId;
      const B = b.owner.organizationId;
      const users = '/users/:id';
      const org = '/organizations/:id';
      const orgMembers = '/organizations/:id/members';
      const member = '/organizations/:id/members/:user_id';
      const projects = '/projects/:id';
      const replacement = newUserBody('hijack');
      const rows: MatrixRow[] = [
        // B's second user, then B's owner, through the users routes.
        { method: 'GET', route: users, path: `/users/${b.member.userId}` },
        {
          method: 'PUT',
          route: users,
          path: `/users/${b.member.userId}`,
          body: { ...replacement, full_name: 'Hijacked' },
        },
        {
          method: 'PATCH',
          route: users,
          path: `/users/${b.member.userId}`,
          body: { full_name: 'Hijacked' },
        },
        { method: 'DELETE', route: users, path: `/users/${b.member.userId}` },
        { method: 'GET', route: users, path: `/users/${b.owner.userId}` },
        {
          method: 'PATCH',
          route: users,
          path: `/users/${b.owner.userId}`,
          body: { full_name: 'Hijacked', role: 'viewer' },
        },
        { method: 'DELETE', route: users, path: `/users/${b.owner.userId}` },
        // B's organization.
        { method: 'GET', route: org, path: `/organizations/${B}` },
        {
          method: 'PUT',
          route: org,
          path: `/organizations/${B}`,
          body: { name: 'Hijacked', slug: slug('hijacked') },
        },
        { method: 'PATCH', route: org, path: `/organizations/${B}`, body: { name: 'Hijacked' } },
        { method: 'DELETE', route: org, path: `/organizations/${B}` },
        // B's members, under B's id and B's member ids under A's id.
        { method: 'GET', route: orgMembers, path: `/organizations/${B}/members` },
        {
          method: 'POST',
          route: orgMembers,
          path: `/organizations/${B}/members`,
          body: { user_id: a.member.userId, role: 'owner' },
        },
        {
          method: 'PATCH',
          route: member,
          path: `/organizations/${B}/members/${b.member.userId}`,
          body: { role: 'viewer' },
        },
        { method: 'DELETE', route: member, path: `/organizations/${B}/members/${b.member.userId}` },
        {
          method: 'PATCH',
          route: member,
          path: `/organizations/${B}/members/${b.owner.userId}`,
          body: { role: 'viewer' },
        },
        { method: 'DELETE', route: member, path: `/organizations/${B}/members/${b.owner.userId}` },
        {
          method: 'PATCH',
          route: member,
          path: `/organizations/${A}/members/${b.member.userId}`,
          body: { role: 'viewer' },
        },
        { method: 'DELETE', route: member, path: `/organizations/${A}/members/${b.member.userId}` },
        // B's project.
        { method: 'GET', route: projects, path: `/projects/${b.project.id}` },
        {
          method: 'PUT',
          route: projects,
          path: `/projects/${b.project.id}`,
          body: { name: 'Hijacked', slug: slug('hijacked'), platform: 'python' },
        },
        {
          method: 'PATCH',
          route: projects,
          path: `/projects/${b.project.id}`,
          body: { name: 'Hijacked' },
        },
        { method: 'DELETE', route: projects, path: `/projects/${b.project.id}` },
      ];
      return rows.map((row) => ({ ...row, path: `/api/v1${row.path}` }));
    }

    beforeAll(async () => {
      a = await tenant('a');
      b = await tenant('b');
      bBefore = await snapshot(b);
      aAuditBefore = await get<Page<AuditRow>>(a.owner, '/api/v1/audit?limit=100');
    });

    it('has audit entries in both organizations to protect', () => {
      expect(bBefore.audit.total).toBeGreaterThanOrEqual(4);
      expect(aAuditBefore.total).toBeGreaterThanOrEqual(4);
      expect(bBefore.members).toHaveLength(2);
      expect(bBefore.organization.id).toBe(b.owner.organizationId);
    });

    it("answers 404 RESOURCE_NOT_FOUND on every id route given another organization's ids", async () => {
      const rows = matrix();
      expect(rows).toHaveLength(CROSS_TENANT_MATRIX_ROWS);
      expect(new Set(rows.map((row) => `${row.method} ${row.route}`)).size).toBe(
        CROSS_TENANT_DISTINCT_ROUTES,
      );

      const outcomes: Record<string, unknown>[] = [];
      for (const row of rows) {
        const response = await api.call(row.path, as(a.owner, row.method, row.body));
        const text = await response.text();
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as Partial<ErrorBody>).error?.code;
        } catch {
          code = undefined;
        }
        const outcome: Record<string, unknown> = {
          request: `${row.method} ${row.path}`,
          status: response.status,
          code,
        };
        if (response.status !== 404 || code !== 'RESOURCE_NOT_FOUND') outcome.body = text;
        outcomes.push(outcome);
      }
      expect(outcomes).toEqual(
        rows.map((row) => ({
          request: `${row.method} ${row.path}`,
          status: 404,
          code: 'RESOURCE_NOT_FOUND',
        })),
      );
    });

    it("leaves the other organization's users, project, organization, members and audit trail unchanged", async () => {
      const after = await snapshot(b);
      expect(after.owner).toEqual(bBefore.owner);
      expect(after.member).toEqual(bBefore.member);
      expect(after.project).toEqual(bBefore.project);
      expect(after.projects).toEqual(bBefore.projects);
      expect(after.organization).toEqual(bBefore.organization);
      expect(after.organization.name).toBe(`${b.owner.username} inc`);
      expect(after.members).toEqual(bBefore.members);
      expect(after.audit.total).toBe(bBefore.audit.total);
      expect(after.audit.data.map((entry) => entry.id)).toEqual(
        bBefore.audit.data.map((entry) => entry.id),
      );
      expect(after.audit.data.filter((entry) => entry.actor.id === a.owner.userId)).toEqual([]);

      // The attempts changed nothing, so they left no entry in the caller's trail either.
      const aAudit = await get<Page<AuditRow>>(a.owner, '/api/v1/audit?limit=100');
      expect(aAudit.total).toBe(aAuditBefore.total);

      // A's second user did not end up in B (the POST /organizations/B/members attempt).
      const aMemberOrgs = await get<One<{ organizations: { id: string }[] }>>(
        a.member,
        '/api/v1/auth/me',
      );
      expect(aMemberOrgs.data.organizations.map((org) => org.id)).toEqual([a.owner.organizationId]);
    });

    it("never lists another organization's rows", async () => {
      const bUserIds = [b.owner.userId, b.member.userId];
      const bIds = new Set<string>([...bUserIds, b.owner.organizationId, String(b.project.id)]);

      const users = await get<Page<UserRow>>(a.owner, '/api/v1/users?limit=100');
      expect(users.data.map((user) => user.id).sort()).toEqual(
        [a.owner.userId, a.member.userId].sort(),
      );
      expect(users.total).toBe(2);

      const projects = await get<Page<ProjectRow>>(a.owner, '/api/v1/projects?limit=100');
      expect(projects.data.map((project) => project.id)).toEqual([a.project.id]);
      expect(projects.total).toBe(1);

      const audit = await get<Page<AuditRow>>(a.owner, '/api/v1/audit?limit=100');
      expect(audit.total).toBeGreaterThan(0);
      for (const entry of audit.data) {
        expect(entry.organization_id).toBe(a.owner.organizationId);
        expect(bIds.has(entry.actor.id ?? '')).toBe(false);
        expect(bIds.has(entry.target?.id ?? '')).toBe(false);
      }
      for (const filter of [
        `actor_id=${b.owner.userId}`,
        `target_id=${b.member.userId}`,
        `target_id=${b.project.id}`,
        `target_id=${b.owner.organizationId}`,
      ]) {
        const filtered = await get<Page<AuditRow>>(a.owner, `/api/v1/audit?${filter}`);
        expect({ filter, total: filtered.total, data: filtered.data }).toEqual({
          filter,
          total: 0,
          data: [],
        });
      }

      const organizations = await get<Page<OrganizationRow>>(a.owner, '/api/v1/organizations');
      expect(organizations.data.map((org) => org.id)).toEqual([a.owner.organizationId]);
      expect(organizations.total).toBe(1);

      const aMembers = await members(a.owner);
      expect(aMembers.map((row) => row.user_id).sort()).toEqual(
        [a.owner.userId, a.member.userId].sort(),
      );
    });

    it("finds no user by another organization's email or name", async () => {
      expect(await usersWithEmail(a.owner, a.member.email)).toBe(1);
      expect(await usersWithEmail(a.owner, b.member.email)).toBe(0);
      expect(await usersWithEmail(a.owner, b.owner.email)).toBe(0);
      const byEmail = await get<Page<UserRow>>(
        a.owner,
        `/api/v1/users?email=${encodeURIComponent(b.member.email)}`,
      );
      expect(byEmail.data).toEqual([]);
      const byName = await get<Page<UserRow>>(a.owner, `/api/v1/users?q=${b.member.username}`);
      expect(byName).toMatchObject({ total: 0, data: [] });
    });
  });

  describe('role matrix within one organization', () => {
    let owner: Account;
    let admin: Account;
    let member: Account;
    let viewer: Account;
    let kept: ProjectRow;
    let memberProject: ProjectRow;

    beforeAll(async () => {
      owner = await registerOwner(api, 'roles');
      admin = await addMember(api, owner, 'admin');
      member = await addMember(api, owner, 'member');
      viewer = await addMember(api, owner, 'viewer');
      kept = await createProject(owner);
    });

    it('viewer cannot write: POST /projects and POST /users are 403 PERMISSION_DENIED', async () => {
      const name = uniqueName('viewer_project');
      await expectError(
        await api.call('/api/v1/projects', as(viewer, 'POST', { name })),
        403,
        'PERMISSION_DENIED',
      );
      const user = newUserBody('by_viewer');
      await expectError(
        await api.call('/api/v1/users', as(viewer, 'POST', user)),
        403,
        'PERMISSION_DENIED',
      );
      // Reads are fine, and nothing was created.
      const projects = await get<Page<ProjectRow>>(viewer, '/api/v1/projects?limit=100');
      expect(projects.data.map((project) => project.name)).not.toContain(name);
      expect(projects.total).toBe(1);
      expect(await usersWithEmail(owner, user.email)).toBe(0);
    });

    it('member creates a project (201) but cannot delete it or delete users (403)', async () => {
      memberProject = await createProject(member);
      expect(memberProject.organization_id).toBe(owner.organizationId);

      await expectError(
        await api.call(`/api/v1/projects/${memberProject.id}`, as(member, 'DELETE')),
        403,
        'PERMISSION_DENIED',
      );
      await expectError(
        await api.call(`/api/v1/users/${viewer.userId}`, as(member, 'DELETE')),
        403,
        'PERMISSION_DENIED',
      );
      await get(owner, `/api/v1/projects/${memberProject.id}`);
      expect(roles(await members(owner))[viewer.userId]).toBe('viewer');
    });

    it('admin deletes a project (204) but cannot delete the organization (403)', async () => {
      const deleted = await api.call(`/api/v1/projects/${memberProject.id}`, as(admin, 'DELETE'));
      expect(await expectStatus(deleted, 204)).toBeUndefined();
      await expectError(
        await api.call(`/api/v1/projects/${memberProject.id}`, as(owner, 'GET')),
        404,
        'RESOURCE_NOT_FOUND',
      );

      await expectError(
        await api.call(`/api/v1/organizations/${owner.organizationId}`, as(admin, 'DELETE')),
        403,
        'PERMISSION_DENIED',
      );
      const organization = await get<One<OrganizationRow>>(
        owner,
        `/api/v1/organizations/${owner.organizationId}`,
      );
      expect(organization.data.id).toBe(owner.organizationId);
      await get(owner, `/api/v1/projects/${kept.id}`);
    });

    it('only the owner deletes the organization (204); its projects go with it', async () => {
      for (const other of [member, viewer]) {
        await expectError(
          await api.call(`/api/v1/organizations/${owner.organizationId}`, as(other, 'DELETE')),
          403,
          'PERMISSION_DENIED',
        );
      }

      const deleted = await api.call(
        `/api/v1/organizations/${owner.organizationId}`,
        as(owner, 'DELETE'),
      );
      expect(await expectStatus(deleted, 204)).toBeUndefined();

      for (const account of [owner, admin]) {
        await expectError(
          await api.call(`/api/v1/projects/${kept.id}`, as(account, 'GET')),
          404,
          'RESOURCE_NOT_FOUND',
        );
        await expectError(
          await api.call(`/api/v1/organizations/${owner.organizationId}`, as(account, 'GET')),
          404,
          'RESOURCE_NOT_FOUND',
        );
      }
      const projects = await get<Page<ProjectRow>>(owner, '/api/v1/projects');
      expect(projects).toMatchObject({ total: 0, data: [] });
      const organizations = await get<Page<OrganizationRow>>(owner, '/api/v1/organizations');
      expect(organizations.data.map((org) => org.id)).not.toContain(owner.organizationId);
    });
  });

  describe('mass assignment', () => {
    let owner: Account;
    let admin: Account;
    let member: Account;
    let outsider: Account;

    beforeAll(async () => {
      owner = await registerOwner(api, 'mass');
      admin = await addMember(api, owner, 'admin');
      member = await addMember(api, owner, 'member');
      outsider = await registerOwner(api, 'outsider');
    });

    async function expectUnknownField(response: Response, field: string): Promise<void> {
      const error = await expectError(response, 400, 'VALIDATION_ERROR');
      expect(error.details).toEqual([{ field, message: `property ${field} should not exist` }]);
    }

    it('is_platform_admin and organization_id in POST /users are 400 VALIDATION_ERROR; nothing created', async () => {
      const extras = { is_platform_admin: true, organization_id: outsider.organizationId };
      for (const [field, value] of Object.entries(extras)) {
        const body = { ...newUserBody('mass'), [field]: value };
        await expectUnknownField(await api.call('/api/v1/users', as(owner, 'POST', body)), field);
        expect(await usersWithEmail(owner, body.email)).toBe(0);
        expect(await usersWithEmail(outsider, body.email)).toBe(0);
      }
    });

    it('the same fields in POST /users/batch items fail those items with 400', async () => {
      const good = newUserBody('batch_ok');
      const admins = { ...newUserBody('batch_pa'), is_platform_admin: true };
      const foreign = { ...newUserBody('batch_org'), organization_id: outsider.organizationId };
      const response = await api.call(
        '/api/v1/users/batch',
        as(owner, 'POST', { users: [admins, good, foreign] }),
      );
      const body = await expectStatus<
        One<{ index: number; status: number; error?: ApiError; data?: UserRow }[]>
      >(response, 200);
      expect(body.data.map((item) => [item.index, item.status])).toEqual([
        [0, 400],
        [1, 201],
        [2, 400],
      ]);
      expect(body.data[0]?.error?.code).toBe('VALIDATION_ERROR');
      expect(body.data[2]?.error?.code).toBe('VALIDATION_ERROR');
      expect(body.data[1]?.data?.is_platform_admin).toBe(false);
      expect(await usersWithEmail(owner, admins.email)).toBe(0);
      expect(await usersWithEmail(owner, foreign.email)).toBe(0);
      expect(await usersWithEmail(outsider, foreign.email)).toBe(0);
    });

    it('is_platform_admin and organization_id in PATCH /users/:id are 400; the user is unchanged', async () => {
      const before = await get<One<UserRow>>(owner, `/api/v1/users/${member.userId}`);
      for (const [field, value] of Object.entries({
        is_platform_admin: true,
        organization_id: outsider.organizationId,
      })) {
        await expectUnknownField(
          await api.call(
            `/api/v1/users/${member.userId}`,
            as(owner, 'PATCH', { full_name: 'Changed', [field]: value }),
          ),
          field,
        );
      }
      const after = await get<One<UserRow>>(owner, `/api/v1/users/${member.userId}`);
      expect(after.data).toEqual(before.data);
      expect(after.data.is_platform_admin).toBe(false);
      expect(await usersWithEmail(outsider, member.email)).toBe(0);
    });

    it('is_platform_admin and organization_id in POST /projects are 400; nothing created', async () => {
      for (const [field, value] of Object.entries({
        is_platform_admin: true,
        organization_id: outsider.organizationId,
      })) {
        await expectUnknownField(
          await api.call(
            '/api/v1/projects',
            as(owner, 'POST', { name: uniqueName('mass_project'), [field]: value }),
          ),
          field,
        );
      }
      expect(await get<Page<ProjectRow>>(owner, '/api/v1/projects')).toMatchObject({ total: 0 });
      expect(await get<Page<ProjectRow>>(outsider, '/api/v1/projects')).toMatchObject({
        total: 0,
      });
    });

    it('is_platform_admin, organization_id and role in POST /auth/register are 400; nothing registered', async () => {
      const account = newUserBody('mass_register');
      const extras = {
        is_platform_admin: true,
        organization_id: outsider.organizationId,
        role: 'owner',
      };
      for (const [field, value] of Object.entries(extras)) {
        await expectUnknownField(
          await api.call('/api/v1/auth/register', json('POST', { ...account, [field]: value })),
          field,
        );
      }
      // Nothing was created: the same username and email still register (no 409), plainly.
      const registered = await api.call('/api/v1/auth/register', json('POST', account));
      const user = (await expectStatus<One<UserRow>>(registered, 201)).data;
      expect(user).toMatchObject({
        username: account.username,
        role: 'owner',
        is_platform_admin: false,
      });
      expect(await usersWithEmail(outsider, account.email)).toBe(0);
      expect(roles(await members(outsider))[user.id]).toBeUndefined();
    });

    it('a member (users:write, no members:write) cannot create a user with role admin (403)', async () => {
      const body = { ...newUserBody('by_member'), role: 'admin' };
      await expectError(
        await api.call('/api/v1/users', as(member, 'POST', body)),
        403,
        'PERMISSION_DENIED',
      );
      expect(await usersWithEmail(owner, body.email)).toBe(0);
      // Without a role the member may create users (the default role, member).
      const plain = newUserBody('by_member');
      const created = await api.call('/api/v1/users', as(member, 'POST', plain));
      expect((await expectStatus<One<UserRow>>(created, 201)).data.role).toBe('member');
    });

    it('an admin cannot make anyone an owner (403); nothing changes', async () => {
      const before = await members(owner);
      expect(roles(before)[member.userId]).toBe('member');

      await expectError(
        await api.call(
          `/api/v1/organizations/${owner.organizationId}/members/${member.userId}`,
          as(admin, 'PATCH', { role: 'owner' }),
        ),
        403,
        'PERMISSION_DENIED',
      );
      await expectError(
        await api.call(
          `/api/v1/organizations/${owner.organizationId}/members/${admin.userId}`,
          as(admin, 'PATCH', { role: 'owner' }),
        ),
        403,
        'PERMISSION_DENIED',
      );
      await expectError(
        await api.call(
          `/api/v1/organizations/${owner.organizationId}/members`,
          as(admin, 'POST', { email: outsider.email, role: 'owner' }),
        ),
        403,
        'PERMISSION_DENIED',
      );
      await expectError(
        await api.call(`/api/v1/users/${member.userId}`, as(admin, 'PATCH', { role: 'owner' })),
        403,
        'PERMISSION_DENIED',
      );
      const body = { ...newUserBody('by_admin'), role: 'owner' };
      await expectError(
        await api.call('/api/v1/users', as(admin, 'POST', body)),
        403,
        'PERMISSION_DENIED',
      );

      expect(await members(owner)).toEqual(before);
      expect(await usersWithEmail(owner, body.email)).toBe(0);
      expect(roles(await members(outsider))).toEqual({ [outsider.userId]: 'owner' });
    });
  });

  describe('last owner', () => {
    let owner: Account;
    let memberPath: (userId: string) => string;

    beforeAll(async () => {
      owner = await registerOwner(api, 'last');
      memberPath = (userId) => `/api/v1/organizations/${owner.organizationId}/members/${userId}`;
    });

    it('the only owner demoting themselves is 409 CONFLICT', async () => {
      await expectError(
        await api.call(memberPath(owner.userId), as(owner, 'PATCH', { role: 'admin' })),
        409,
        'CONFLICT',
      );
      await expectError(
        await api.call(`/api/v1/users/${owner.userId}`, as(owner, 'PATCH', { role: 'admin' })),
        409,
        'CONFLICT',
      );
      expect(roles(await members(owner))).toEqual({ [owner.userId]: 'owner' });
    });

    it('removing the last owner is 409 CONFLICT', async () => {
      await expectError(
        await api.call(memberPath(owner.userId), as(owner, 'DELETE')),
        409,
        'CONFLICT',
      );
      await expectError(
        await api.call(`/api/v1/users/${owner.userId}`, as(owner, 'DELETE')),
        409,
        'CONFLICT',
      );
      expect(roles(await members(owner))).toEqual({ [owner.userId]: 'owner' });
      await get(owner, `/api/v1/users/${owner.userId}`);
    });

    it('with a second owner added, demotion works (200)', async () => {
      const second = await addMember(api, owner, 'owner');
      expect(roles(await members(owner))).toEqual({
        [owner.userId]: 'owner',
        [second.userId]: 'owner',
      });

      const demoted = await api.call(
        memberPath(owner.userId),
        as(owner, 'PATCH', { role: 'admin' }),
      );
      const body = await expectStatus<One<MemberRow>>(demoted, 200);
      expect(body.data).toMatchObject({ user_id: owner.userId, role: 'admin' });
      expect(roles(await members(second))).toEqual({
        [owner.userId]: 'admin',
        [second.userId]: 'owner',
      });

      // Now the second owner is the last one.
      await expectError(
        await api.call(memberPath(second.userId), as(second, 'PATCH', { role: 'member' })),
        409,
        'CONFLICT',
      );
      await expectError(
        await api.call(memberPath(second.userId), as(second, 'DELETE')),
        409,
        'CONFLICT',
      );
    });
  });
});
