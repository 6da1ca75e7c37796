import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { InvitationsResetsRetention } from '../src/modules/users/invitations-resets-retention.js';
import { PASSWORD, type Account, addMember, as, registerOwner } from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import { type One, expectStatus } from './support/tenancy.js';

/**
 * Issue 9: "a declined or expired invitation leaves nothing", and a reset token leaves nothing
 * once used or expired. The worker's retention queue runs this purge every hour; here it is
 * called directly, as the processor does.
 */
describe('retention of invitations and password resets', () => {
  let api: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    api = await startApp();
    db = api.app.get(DataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  const invite = async (owner: Account, holder: Account): Promise<string> => {
    const response = await api.call(
      `/api/v1/organizations/${owner.organizationId}/members`,
      as(owner, 'POST', { email: holder.email, role: 'member' }),
    );
    return (await expectStatus<One<{ id: string }>>(response, 202)).data.id;
  };

  const issueReset = async (owner: Account, member: Account): Promise<string> => {
    const response = await api.call(
      `/api/v1/users/${member.userId}/password-reset`,
      as(owner, 'POST'),
    );
    return (await expectStatus<One<{ reset_token: string }>>(response, 201)).data.reset_token;
  };

  const completeReset = (token: string) =>
    api.call(
      '/api/v1/auth/password-reset',
      json('POST', { reset_token: token, new_password: `${PASSWORD} again` }),
    );

  it('deletes expired invitations and used or expired resets, and keeps the pending ones', async () => {
    const owner = await registerOwner(api, 'purger');
    const lapsedHolder = await registerOwner(api, 'lapsed');
    const pendingHolder = await registerOwner(api, 'pending');
    const lapsedInvitation = await invite(owner, lapsedHolder);
    const pendingInvitation = await invite(owner, pendingHolder);
    await db.query(
      "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1",
      [lapsedInvitation],
    );

    const spent = await addMember(api, owner, 'member');
    const lapsed = await addMember(api, owner, 'member');
    const pending = await addMember(api, owner, 'member');
    expect((await completeReset(await issueReset(owner, spent))).status).toBe(204);
    await issueReset(owner, lapsed);
    const pendingToken = await issueReset(owner, pending);
    await db.query(
      "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = $1",
      [lapsed.userId],
    );
    const resetsOf = async (): Promise<string[]> =>
      (
        await db.query<{ user_id: string }[]>(
          'SELECT user_id FROM password_resets WHERE user_id = ANY($1) ORDER BY user_id',
          [[spent.userId, lapsed.userId, pending.userId]],
        )
      ).map((row) => row.user_id);
    expect(await resetsOf()).toHaveLength(3);

    const result = await new InvitationsResetsRetention(db).purge();
    expect(result.deletedInvitations).toBeGreaterThanOrEqual(1);
    expect(result.deletedPasswordResets).toBeGreaterThanOrEqual(2);

    const invitations = await db.query<{ id: string }[]>(
      'SELECT id FROM invitations WHERE organization_id = $1',
      [owner.organizationId],
    );
    expect(invitations.map((row) => row.id)).toEqual([pendingInvitation]);
    expect(await resetsOf()).toEqual([pending.userId]);

    // What was kept still works.
    const accepted = await api.call(
      `/api/v1/auth/invitations/${pendingInvitation}/accept`,
      as(pendingHolder, 'POST'),
    );
    expect(accepted.status).toBe(200);
    expect((await completeReset(pendingToken)).status).toBe(204);
  });
});
