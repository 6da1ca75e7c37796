import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

/**
 * Bearer tokens follow the membership as it is now, on every process (issue 9, section 7): a
 * removed member's or a deleted organization's token is refused (401) on the next request, and
 * a demotion applies at once; each process keeps the memberships in memory, dropped through
 * Redis when they change.
 */
describe('membership cache across processes', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    [a, b] = await Promise.all([startApp(), startApp()]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it("a removed member's token is refused on the other process; a demotion applies there at once", async () => {
    const owner = await registerOwner(a, 'cache');
    const removed = await addMember(a, owner, 'admin');
    const demoted = await addMember(a, owner, 'admin');
    // Both processes have these memberships cached.
    for (const api of [a, b]) {
      for (const account of [removed, demoted]) {
        expect((await api.call('/api/v1/users', as(account, 'GET'))).status).toBe(200);
      }
    }
    expect(
      (await b.call('/api/v1/projects', as(demoted, 'POST', { name: 'before demotion' }))).status,
    ).toBe(201);

    const members = `/api/v1/organizations/${owner.organizationId}/members`;
    expect((await a.call(`${members}/${removed.userId}`, as(owner, 'DELETE'))).status).toBe(204);
    expect(
      (await a.call(`${members}/${demoted.userId}`, as(owner, 'PATCH', { role: 'viewer' }))).status,
    ).toBe(200);

    await eventually(async () => {
      const response = await b.call('/api/v1/users', as(removed, 'GET'));
      expect(response.status).toBe(401);
    }, 2_000);
    expect((await a.call('/api/v1/users', as(removed, 'GET'))).status).toBe(401);
    await eventually(async () => {
      const response = await b.call(
        '/api/v1/projects',
        as(demoted, 'POST', { name: 'after demotion' }),
      );
      expect(response.status).toBe(403);
    }, 2_000);
    const me = await b.call('/api/v1/auth/me', as(demoted, 'GET'));
    expect(((await me.json()) as { data: { role: string } }).data.role).toBe('viewer');
  });

  it("a deleted organization's tokens are refused (401) on every process, reads and writes alike", async () => {
    const owner = await registerOwner(a, 'doomed');
    const admin = await addMember(a, owner, 'admin');
    for (const api of [a, b]) {
      expect((await api.call('/api/v1/projects', as(admin, 'GET'))).status).toBe(200);
    }
    expect(
      (await a.call(`/api/v1/organizations/${owner.organizationId}`, as(owner, 'DELETE'))).status,
    ).toBe(204);
    for (const api of [a, b]) {
      for (const account of [owner, admin]) {
        await eventually(async () => {
          expect((await api.call('/api/v1/projects', as(account, 'GET'))).status).toBe(401);
        }, 2_000);
        const write = await api.call('/api/v1/projects', as(account, 'POST', { name: 'ghost' }));
        expect(write.status).toBe(401);
      }
    }
  });
});
