import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type Account,
  as,
  login,
  registerOwner,
  uniqueName,
  PASSWORD,
  addMember,
} from './support/identity.js';
import { registerPlatformAdmin } from './support/platform-admin.js';
import { type TestApp, json, startApp } from './support/test-app.js';

interface OrganizationBody {
  id: string;
  name: string;
  slug: string;
  tier: string;
  role: string;
}

interface MemberBody {
  user_id: string;
  role: string;
}

describe('organizations and members', () => {
  let api: TestApp;
  let owner: Account;

  beforeAll(async () => {
    api = await startApp();
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await api.close();
  });

  it('lists my organizations; creating one makes me its owner', async () => {
    const created = await api.call(
      '/api/v1/organizations',
      as(owner, 'POST', { name: 'Second Org' }),
    );
    expect(created.status).toBe(201);
    const { data: second } = (await created.json()) as { data: OrganizationBody };
    expect(second).toMatchObject({ name: 'Second Org', tier: 'free', role: 'owner' });

    const list = (await (await api.call('/api/v1/organizations', as(owner, 'GET'))).json()) as {
      data: OrganizationBody[];
      total: number;
    };
    expect(list.total).toBe(2);
    expect(list.data.map((o) => o.id)).toEqual([owner.organizationId, second.id]);

    const get = await api.call(`/api/v1/organizations/${second.id}`, as(owner, 'GET'));
    expect(get.status).toBe(200);
    // Changes apply to the token's organization: log in to the second one to change it.
    expect(
      (await api.call(`/api/v1/organizations/${second.id}`, as(owner, 'PATCH', { name: 'x' })))
        .status,
    ).toBe(404);
    const inSecond = await login(api, owner.username, second.id);
    const patched = await api.call(
      `/api/v1/organizations/${second.id}`,
      as(inSecond, 'PATCH', { name: 'Renamed' }),
    );
    expect(((await patched.json()) as { data: OrganizationBody }).data.name).toBe('Renamed');
  });

  it('tier changes are for platform administrators only; slugs are unique', async () => {
    const tier = await api.call(
      `/api/v1/organizations/${owner.organizationId}`,
      as(owner, 'PATCH', { tier: 'enterprise' }),
    );
    expect(tier.status).toBe(403);
    const other = await registerOwner(api);
    const { data: mine } = (await (
      await api.call(`/api/v1/organizations/${owner.organizationId}`, as(owner, 'GET'))
    ).json()) as {
      data: OrganizationBody;
    };
    const taken = await api.call(
      `/api/v1/organizations/${other.organizationId}`,
      as(other, 'PATCH', { slug: mine.slug }),
    );
    expect(taken.status).toBe(409);
  });

  it('adding an existing account by email or id invites it (202); it is a member only once it accepts', async () => {
    const outsider = await registerOwner(api, 'outsider');
    const members = `/api/v1/organizations/${owner.organizationId}/members`;
    const invited = await api.call(
      members,
      as(owner, 'POST', { email: outsider.email.toUpperCase(), role: 'viewer' }),
    );
    expect(invited.status).toBe(202);
    const invitation = ((await invited.json()) as { data: Record<string, unknown> }).data;
    expect(invitation).toMatchObject({
      organization_id: owner.organizationId,
      user_id: outsider.userId,
      email: outsider.email,
      role: 'viewer',
      status: 'invited',
    });

    const again = await api.call(
      members,
      as(owner, 'POST', { user_id: outsider.userId, role: 'viewer' }),
    );
    expect(again.status).toBe(409);

    const both = await api.call(
      members,
      as(owner, 'POST', { user_id: outsider.userId, email: outsider.email, role: 'viewer' }),
    );
    expect(both.status).toBe(400);

    const missing = await api.call(
      members,
      as(owner, 'POST', { email: `${uniqueName()}@example.com`, role: 'viewer' }),
    );
    expect(missing.status).toBe(404);

    // Pending: listed as invited, without the account's own data, and no way in.
    const pending = (await (await api.call(members, as(owner, 'GET'))).json()) as {
      data: (MemberBody & Record<string, unknown>)[];
    };
    expect(pending.data.find((m) => m.user_id === outsider.userId)).toEqual({
      user_id: outsider.userId,
      status: 'invited',
      username: null,
      email: outsider.email,
      full_name: null,
      role: 'viewer',
      joined_at: null,
      invitation_id: invitation.id,
      expires_at: invitation.expires_at,
    });
    const early = await api.call(
      '/api/v1/auth/login',
      json('POST', {
        login: outsider.username,
        password: PASSWORD,
        organization_id: owner.organizationId,
      }),
    );
    expect(early.status).toBe(401);

    const accepted = await api.call(
      `/api/v1/auth/invitations/${String(invitation.id)}/accept`,
      as(outsider, 'POST'),
    );
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { data: unknown }).data).toMatchObject({
      organization_id: owner.organizationId,
      role: 'viewer',
    });

    const member = `${members}/${outsider.userId}`;
    const changed = await api.call(member, as(owner, 'PATCH', { role: 'admin' }));
    expect(((await changed.json()) as { data: MemberBody }).data.role).toBe('admin');

    const inOwnersOrg = await login(api, outsider.username, owner.organizationId);
    expect(inOwnersOrg.organizationId).toBe(owner.organizationId);

    const listed = (await (await api.call(members, as(owner, 'GET'))).json()) as {
      data: (MemberBody & { status: string })[];
    };
    expect(listed.data.map((m) => [m.user_id, m.role, m.status])).toEqual(
      expect.arrayContaining([
        [owner.userId, 'owner', 'active'],
        [outsider.userId, 'admin', 'active'],
      ]),
    );

    expect((await api.call(member, as(owner, 'DELETE'))).status).toBe(204);
    const relogin = await api.call(
      '/api/v1/auth/login',
      json('POST', {
        login: outsider.username,
        password: PASSWORD,
        organization_id: owner.organizationId,
      }),
    );
    expect(relogin.status).toBe(401);
  });

  it('an organization always keeps an owner; with a second owner the first can step down', async () => {
    const solo = await registerOwner(api, 'solo');
    const self = `/api/v1/organizations/${solo.organizationId}/members/${solo.userId}`;
    expect((await api.call(self, as(solo, 'PATCH', { role: 'admin' }))).status).toBe(409);
    expect((await api.call(self, as(solo, 'DELETE'))).status).toBe(409);

    const admin = await addMember(api, solo, 'admin');
    const promote = `/api/v1/organizations/${solo.organizationId}/members/${admin.userId}`;
    expect((await api.call(promote, as(admin, 'PATCH', { role: 'owner' }))).status).toBe(403);
    expect((await api.call(promote, as(solo, 'PATCH', { role: 'owner' }))).status).toBe(200);
    expect((await api.call(self, as(solo, 'PATCH', { role: 'admin' }))).status).toBe(200);
  });

  it('only an owner deletes the organization; it takes its projects with it', async () => {
    const doomed = await registerOwner(api, 'doomed');
    const admin = await addMember(api, doomed, 'admin');
    const project = await api.call('/api/v1/projects', as(doomed, 'POST', { name: 'Goes away' }));
    const { data } = (await project.json()) as { data: { id: number } };
    expect(
      (await api.call(`/api/v1/organizations/${doomed.organizationId}`, as(admin, 'DELETE')))
        .status,
    ).toBe(403);
    expect(
      (await api.call(`/api/v1/organizations/${doomed.organizationId}`, as(doomed, 'DELETE')))
        .status,
    ).toBe(204);
    // The owner's token was for that organization: refused from the next request on.
    expect((await api.call(`/api/v1/projects/${data.id}`, as(doomed, 'GET'))).status).toBe(401);
    const elsewhere = await registerOwner(api, 'elsewhere');
    expect((await api.call(`/api/v1/projects/${data.id}`, as(elsewhere, 'GET'))).status).toBe(404);
  });

  it('platform administrators may change tiers', async () => {
    const admin = await registerPlatformAdmin(api);
    const tier = await api.call(
      `/api/v1/organizations/${admin.organizationId}`,
      as(admin, 'PATCH', { tier: 'enterprise' }),
    );
    expect(tier.status).toBe(200);
    expect(((await tier.json()) as { data: OrganizationBody }).data.tier).toBe('enterprise');
  });
});
