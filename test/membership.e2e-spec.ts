import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import {
  type MemberRow,
  type One,
  expectError,
  expectStatus,
  tenancyHelpers,
} from './support/tenancy.js';

/**
 * Membership (API.md, "Users, organizations, projects"): an organization keeps an owner.
 */
describe('membership', () => {
  let api: TestApp;
  const { get, members, roles } = tenancyHelpers(() => api);

  beforeAll(async () => {
    api = await startApp();
  });

  afterAll(async () => {
    await api.close();
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
