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
import {
  type ApiError,
  type One,
  type OrganizationRow,
  type Page,
  type ProjectRow,
  type UserRow,
  expectError,
  expectStatus,
  newUserBody,
  tenancyHelpers,
} from './support/tenancy.js';

/**
 * Authorization within one organization (API.md, "Authentication"): the role table holds, and
 * mass assignment (platform admin, another organization, a role above one's own) is refused.
 */
describe('roles and authorization', () => {
  let api: TestApp;
  const { get, createProject, members, roles, usersWithEmail } = tenancyHelpers(() => api);

  beforeAll(async () => {
    api = await startApp();
  });

  afterAll(async () => {
    await api.close();
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

      // Their tokens were for that organization: refused from the next request on.
      for (const account of [owner, admin]) {
        await expectError(
          await api.call(`/api/v1/projects/${kept.id}`, as(account, 'GET')),
          401,
          'AUTHENTICATION_FAILED',
        );
        await expectError(
          await api.call('/api/v1/projects', as(account, 'POST', { name: 'after' })),
          401,
          'AUTHENTICATION_FAILED',
        );
      }
      // The project went with it: another organization's credential finds nothing either.
      const outsider = await registerOwner(api, 'after_delete');
      await expectError(
        await api.call(`/api/v1/projects/${kept.id}`, as(outsider, 'GET')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      const relogin = await api.call(
        '/api/v1/auth/login',
        json('POST', { login: owner.username, password: PASSWORD }),
      );
      expect(relogin.status).toBe(401);
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
});
