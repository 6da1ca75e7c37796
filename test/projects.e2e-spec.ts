import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';

interface ProjectBody {
  id: number;
  organization_id: string;
  name: string;
  slug: string;
  platform: string | null;
  public_key: string;
  dsn: string;
}

describe('projects', () => {
  let api: TestApp;
  let owner: Account;

  beforeAll(async () => {
    api = await startApp();
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await api.close();
  });

  async function create(body: Record<string, unknown>): Promise<Response> {
    return api.call('/api/v1/projects', as(owner, 'POST', body));
  }

  it('creates a project with an integer id, a public key and a DSN built from PUBLIC_URL', async () => {
    const response = await create({ name: 'Checkout Service', platform: 'node' });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: ProjectBody };
    expect(Number.isInteger(data.id) && data.id > 0).toBe(true);
    expect(data).toMatchObject({
      organization_id: owner.organizationId,
      name: 'Checkout Service',
      platform: 'node',
    });
    expect(data.slug).toMatch(/^checkout-service-[a-z0-9]{6}$/);
    expect(data.public_key).toMatch(/^[0-9a-f]{32}$/);
    const publicUrl = new URL(process.env.PUBLIC_URL ?? 'http://localhost:3000');
    expect(data.dsn).toBe(`${publicUrl.protocol}//${data.public_key}@${publicUrl.host}/${data.id}`);
  });

  it('409 for a slug already used in the organization', async () => {
    expect((await create({ name: 'A', slug: 'same-slug' })).status).toBe(201);
    const again = await create({ name: 'B', slug: 'same-slug' });
    expect(again.status).toBe(409);
  });

  it('gets, lists, PATCHes, PUTs and deletes', async () => {
    const { data: project } = (await (
      await create({ name: 'Lifecycle', platform: 'python' })
    ).json()) as {
      data: ProjectBody;
    };
    const path = `/api/v1/projects/${project.id}`;
    expect(
      ((await (await api.call(path, as(owner, 'GET'))).json()) as { data: ProjectBody }).data,
    ).toEqual(project);

    const list = (await (
      await api.call('/api/v1/projects?limit=100', as(owner, 'GET'))
    ).json()) as {
      data: ProjectBody[];
      total: number;
    };
    expect(list.data.map((p) => p.id)).toContain(project.id);

    const patched = await api.call(path, as(owner, 'PATCH', { name: 'Renamed' }));
    expect(((await patched.json()) as { data: ProjectBody }).data).toMatchObject({
      name: 'Renamed',
      platform: 'python',
    });

    const put = await api.call(path, as(owner, 'PUT', { name: 'Replaced', slug: 'replaced-slug' }));
    expect(((await put.json()) as { data: ProjectBody }).data).toMatchObject({
      name: 'Replaced',
      slug: 'replaced-slug',
      platform: null,
      public_key: project.public_key,
    });

    expect((await api.call(path, as(owner, 'DELETE'))).status).toBe(204);
    expect((await api.call(path, as(owner, 'GET'))).status).toBe(404);

    const audit = (await (
      await api.call(`/api/v1/audit?target_type=project&target_id=${project.id}`, as(owner, 'GET'))
    ).json()) as {
      data: { action: string }[];
    };
    expect(audit.data.map((e) => e.action)).toEqual([
      'project.deleted',
      'project.updated',
      'project.updated',
      'project.created',
    ]);
  });

  it('400 for ids that are not positive integers, 404 for one that does not exist', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '99999999999']) {
      expect((await api.call(`/api/v1/projects/${id}`, as(owner, 'GET'))).status).toBe(400);
    }
    expect((await api.call('/api/v1/projects/2147483647', as(owner, 'GET'))).status).toBe(404);
  });
});
