import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import {
  type AuditRow,
  type ErrorBody,
  type MemberRow,
  type One,
  type OrganizationRow,
  type Page,
  type ProjectRow,
  type UserRow,
  expectStatus,
  newUserBody,
  slug,
  tenancyHelpers,
} from './support/tenancy.js';

/** Rows of the cross-tenant matrix (one request each) and the distinct id routes they cover. */
const CROSS_TENANT_MATRIX_ROWS = 23;
const CROSS_TENANT_DISTINCT_ROUTES = 16;

/**
 * Cross-tenant isolation (API.md, "Wire conventions" and "Users, organizations, projects"):
 * another organization's resources are 404 on every id route, untouched, and never listed.
 */
describe('cross-tenant isolation', () => {
  let api: TestApp;
  const { get, createProject, members, usersWithEmail } = tenancyHelpers(() => api);

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
          body: { ...replacement, full_name: 'Hijacked', role: 'member' },
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
});
