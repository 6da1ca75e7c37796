import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import {
  type Account,
  PASSWORD,
  addMember,
  as,
  inviteAndAccept,
  invitationsOf,
  login,
  registerOwner,
  uniqueName,
} from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import {
  type MemberRow,
  type One,
  type Page,
  type UserRow,
  expectError,
  expectStatus,
  tenancyHelpers,
} from './support/tenancy.js';

/**
 * Accounts belong to the person who holds them (issue 9, section 1; API.md "Authentication",
 * "Auth" and "Users, organizations, projects"): an organization changes only its membership,
 * by rank; account fields change only through PATCH /auth/me; an administrator's reset is for
 * unshared accounts only; an existing account joins an organization only by accepting.
 */

const NEW_PASSWORD = 'a brand new passphrase';

interface InvitationBody {
  id: string;
  organization_id: string;
  organization_name: string;
  user_id: string;
  email: string | null;
  role: string;
  status: string;
  expires_at: string;
}
interface AuditRow {
  action: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  changes: Record<string, unknown> | null;
}

describe('accounts belong to the person who holds them', () => {
  let api: TestApp;
  let db: DataSource;
  const { get, members } = tenancyHelpers(() => api);

  beforeAll(async () => {
    api = await startApp();
    db = api.app.get(DataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  function loginWith(loginName: string, password: string, organizationId?: string) {
    return api.call(
      '/api/v1/auth/login',
      json('POST', {
        login: loginName,
        password,
        ...(organizationId === undefined ? {} : { organization_id: organizationId }),
      }),
    );
  }

  function refresh(refreshToken: string) {
    return api.call('/api/v1/auth/refresh', json('POST', { refresh_token: refreshToken }));
  }

  async function auditOf(account: Account, query: string): Promise<AuditRow[]> {
    return (await get<Page<AuditRow>>(account, `/api/v1/audit?limit=100&${query}`)).data;
  }

  async function createKey(owner: Account, permissions: string[]): Promise<string> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'automation', environment: 'live', permissions }),
    );
    return (await expectStatus<One<{ key: string }>>(response, 201)).data.key;
  }

  function withKey(key: string, method: string, body?: unknown): RequestInit {
    return body === undefined
      ? { method, headers: { 'x-api-key': key } }
      : json(method, body, { 'x-api-key': key });
  }

  describe('the four-call takeover', () => {
    it('fails at every step: adding is an invitation, account fields are 403, the victim keeps their account', async () => {
      const victim = await registerOwner(api, 'victim');
      const attacker = await registerOwner(api, 'attacker');

      // Call 2: attaching the victim makes an invitation, not a membership.
      const attached = await api.call(
        `/api/v1/organizations/${attacker.organizationId}/members`,
        as(attacker, 'POST', { email: victim.email, role: 'viewer' }),
      );
      const invitation = (await expectStatus<One<InvitationBody>>(attached, 202)).data;
      expect(invitation).toMatchObject({ user_id: victim.userId, status: 'invited' });
      await expectError(
        await api.call(`/api/v1/users/${victim.userId}`, as(attacker, 'GET')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      // The same through POST /users with the victim's email.
      const viaUsers = await api.call(
        '/api/v1/users',
        as(attacker, 'POST', {
          username: uniqueName('x'),
          email: victim.email,
          password: 'attacker chosen password',
        }),
      );
      await expectError(viaUsers, 409, 'CONFLICT');

      // Call 3: the password cannot be set, neither before nor after the victim joins.
      await expectError(
        await api.call(
          `/api/v1/users/${victim.userId}`,
          as(attacker, 'PATCH', { password: 'attacker chosen password' }),
        ),
        404,
        'RESOURCE_NOT_FOUND',
      );
      // Even if the victim accepts (say, tricked into it), the account stays theirs.
      const accepted = await api.call(
        `/api/v1/auth/invitations/${invitation.id}/accept`,
        as(victim, 'POST'),
      );
      await expectStatus(accepted, 200);
      for (const [method, body] of [
        ['PATCH', { password: 'attacker chosen password' }],
        ['PATCH', { email: `${uniqueName('stolen')}@example.com` }],
        ['PUT', { role: 'member', password: 'attacker chosen password' }],
      ] as const) {
        const error = await expectError(
          await api.call(`/api/v1/users/${victim.userId}`, as(attacker, method, body)),
          403,
          'PERMISSION_DENIED',
        );
        expect(error.message).toMatch(/account holder/);
      }
      // Shared now: not even its name, and no administrator's reset.
      await expectError(
        await api.call(
          `/api/v1/users/${victim.userId}`,
          as(attacker, 'PATCH', { full_name: 'Owned' }),
        ),
        403,
        'PERMISSION_DENIED',
      );
      await expectError(
        await api.call(`/api/v1/users/${victim.userId}/password-reset`, as(attacker, 'POST')),
        403,
        'PERMISSION_DENIED',
      );

      // Call 4: the attacker's password does not open the account; the victim's still does.
      expect((await loginWith(victim.username, 'attacker chosen password')).status).toBe(401);
      const back = await login(api, victim.username, victim.organizationId);
      expect(back.organizationId).toBe(victim.organizationId);
    });
  });

  describe('rank', () => {
    let owner: Account;
    let admin: Account;
    let member: Account;
    let peer: Account;

    beforeAll(async () => {
      owner = await registerOwner(api, 'rank');
      admin = await addMember(api, owner, 'admin');
      member = await addMember(api, owner, 'member');
      peer = await addMember(api, owner, 'member');
    });

    it('a member cannot touch an admin (403) but may change a peer', async () => {
      const before = await get<One<UserRow>>(owner, `/api/v1/users/${admin.userId}`);
      for (const body of [{ full_name: 'Renamed' }, { telegram_chat_id: '666' }]) {
        await expectError(
          await api.call(`/api/v1/users/${admin.userId}`, as(member, 'PATCH', body)),
          403,
          'PERMISSION_DENIED',
        );
      }
      await expectError(
        await api.call(`/api/v1/users/${admin.userId}`, as(member, 'PUT', { role: 'admin' })),
        403,
        'PERMISSION_DENIED',
      );
      await expectError(
        await api.call(`/api/v1/users/${admin.userId}/password-reset`, as(member, 'POST')),
        403,
        'PERMISSION_DENIED',
      );
      expect((await get<One<UserRow>>(owner, `/api/v1/users/${admin.userId}`)).data).toEqual(
        before.data,
      );
      const renamed = await api.call(
        `/api/v1/users/${peer.userId}`,
        as(member, 'PATCH', { full_name: 'Peer' }),
      );
      expect((await expectStatus<One<UserRow>>(renamed, 200)).data.full_name).toBe('Peer');
    });

    it('an admin cannot change, demote, remove or reset an owner, nor reset another admin', async () => {
      const memberPath = `/api/v1/organizations/${owner.organizationId}/members/${owner.userId}`;
      const attempts: [string, RequestInit][] = [
        [`/api/v1/users/${owner.userId}`, as(admin, 'PATCH', { full_name: 'x' })],
        [`/api/v1/users/${owner.userId}`, as(admin, 'PATCH', { role: 'viewer' })],
        [`/api/v1/users/${owner.userId}`, as(admin, 'DELETE')],
        [memberPath, as(admin, 'PATCH', { role: 'viewer' })],
        [memberPath, as(admin, 'DELETE')],
        [`/api/v1/users/${owner.userId}/password-reset`, as(admin, 'POST')],
      ];
      for (const [path, init] of attempts) {
        await expectError(await api.call(path, init), 403, 'PERMISSION_DENIED');
      }
      const second = await addMember(api, owner, 'admin');
      await expectError(
        await api.call(`/api/v1/users/${second.userId}/password-reset`, as(admin, 'POST')),
        403,
        'PERMISSION_DENIED',
      );
      const roles = Object.fromEntries(
        (await members(owner)).map((row: MemberRow) => [row.user_id, row.role]),
      );
      expect(roles[owner.userId]).toBe('owner');
      // Equal rank may be changed: an admin demotes another admin.
      const demoted = await api.call(
        `/api/v1/organizations/${owner.organizationId}/members/${second.userId}`,
        as(admin, 'PATCH', { role: 'member' }),
      );
      expect((await expectStatus<One<MemberRow>>(demoted, 200)).data.role).toBe('member');
    });
  });

  describe("an administrator's password reset", () => {
    it('is single use, 1 hour, stored as a hash, audited without the token, and ends every session', async () => {
      const owner = await registerOwner(api, 'resetter');
      const member = await addMember(api, owner, 'member');
      const otherSession = await login(api, member.username, owner.organizationId);

      const issued = await api.call(`/api/v1/users/${member.userId}/password-reset`, {
        ...as(owner, 'POST'),
        headers: { ...owner.auth, 'idempotency-key': uniqueName('reset') },
      });
      const { reset_token: token, expires_at: expiresAt } = (
        await expectStatus<One<{ reset_token: string; expires_at: string }>>(issued, 201)
      ).data;
      expect(token).toMatch(/^prt_[A-Za-z0-9_-]{43}$/);
      const ttl = Date.parse(expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan(59 * 60_000);
      expect(ttl).toBeLessThanOrEqual(60 * 60_000);

      const rows = await db.query<{ token_hash: Buffer }[]>(
        'SELECT token_hash FROM password_resets WHERE user_id = $1',
        [member.userId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.token_hash.toString('hex')).not.toContain(Buffer.from(token).toString('hex'));
      const stored = await db.query<{ found: number }[]>(
        `SELECT count(*)::int AS found FROM audit_log WHERE changes::text LIKE '%' || $1 || '%'`,
        [token],
      );
      expect(stored[0]?.found).toBe(0);

      const completed = await api.call(
        '/api/v1/auth/password-reset',
        json('POST', { reset_token: token, new_password: NEW_PASSWORD }),
      );
      expect(await expectStatus(completed, 204)).toBeUndefined();
      await expectError(
        await api.call(
          '/api/v1/auth/password-reset',
          json('POST', { reset_token: token, new_password: 'yet another passphrase' }),
        ),
        401,
        'AUTHENTICATION_FAILED',
      );

      for (const session of [member, otherSession]) {
        await expectError(await refresh(session.refreshToken), 401, 'AUTHENTICATION_FAILED');
      }
      expect((await loginWith(member.username, PASSWORD)).status).toBe(401);
      expect((await loginWith(member.username, NEW_PASSWORD)).status).toBe(200);

      const audit = await auditOf(owner, `target_id=${member.userId}`);
      expect(audit.map((entry) => entry.action)).toEqual(
        expect.arrayContaining(['user.password_reset_issued', 'user.password_reset_completed']),
      );
      expect(JSON.stringify(audit)).not.toContain(token);
      expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
    });

    it('an admin cannot reset an account shared with another organization; joining one voids a pending reset', async () => {
      const owner = await registerOwner(api, 'org_a');
      const admin = await addMember(api, owner, 'admin');
      const elsewhere = await registerOwner(api, 'org_b');
      const shared = await addMember(api, elsewhere, 'member');
      await inviteAndAccept(api, owner, shared, 'viewer');
      const error = await expectError(
        await api.call(`/api/v1/users/${shared.userId}/password-reset`, as(admin, 'POST')),
        403,
        'PERMISSION_DENIED',
      );
      expect(error.message).toMatch(/another organization/);

      const single = await addMember(api, owner, 'viewer');
      const issued = await api.call(
        `/api/v1/users/${single.userId}/password-reset`,
        as(admin, 'POST'),
      );
      const { reset_token: token } = (await expectStatus<One<{ reset_token: string }>>(issued, 201))
        .data;
      await inviteAndAccept(api, elsewhere, single, 'viewer');
      await expectError(
        await api.call(
          '/api/v1/auth/password-reset',
          json('POST', { reset_token: token, new_password: NEW_PASSWORD }),
        ),
        401,
        'AUTHENTICATION_FAILED',
      );
      expect((await loginWith(single.username, PASSWORD)).status).toBe(200);
    });
  });

  describe('PATCH /auth/me', () => {
    it("changes the holder's own account; email and password need current_password; a new password ends the other sessions only", async () => {
      const owner = await registerOwner(api, 'self');
      const other = await login(api, owner.username);
      const path = '/api/v1/auth/me';

      const named = await api.call(
        path,
        as(owner, 'PATCH', { full_name: 'Self Made', telegram_chat_id: '42' }),
      );
      expect(
        (await expectStatus<One<{ full_name: string; telegram_chat_id: string }>>(named, 200)).data,
      ).toMatchObject({ full_name: 'Self Made', telegram_chat_id: '42' });

      const missing = await expectError(
        await api.call(path, as(owner, 'PATCH', { password: NEW_PASSWORD })),
        400,
        'VALIDATION_ERROR',
      );
      expect(missing.details).toEqual([{ field: 'current_password', message: expect.any(String) }]);
      await expectError(
        await api.call(
          path,
          as(owner, 'PATCH', { password: NEW_PASSWORD, current_password: 'wrong guess' }),
        ),
        401,
        'AUTHENTICATION_FAILED',
      );
      const taken = await registerOwner(api, 'taken');
      await expectError(
        await api.call(
          path,
          as(owner, 'PATCH', { email: taken.email.toUpperCase(), current_password: PASSWORD }),
        ),
        409,
        'CONFLICT',
      );

      const changed = await api.call(
        path,
        as(owner, 'PATCH', { password: NEW_PASSWORD, current_password: PASSWORD }),
      );
      await expectStatus(changed, 200);
      // The other session is over; this one goes on (its refresh token still rotates).
      await expectError(await refresh(other.refreshToken), 401, 'AUTHENTICATION_FAILED');
      expect((await refresh(owner.refreshToken)).status).toBe(200);
      expect((await loginWith(owner.username, PASSWORD)).status).toBe(401);
      expect((await loginWith(owner.username, NEW_PASSWORD)).status).toBe(200);

      const audit = await auditOf(owner, 'action=user.account_updated');
      expect(audit.map((entry) => entry.changes)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ password: '[REDACTED]', sessions_ended: 1 }),
        ]),
      );
      expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
    });

    it('an API key cannot use it (403)', async () => {
      const owner = await registerOwner(api, 'keyme');
      const key = await createKey(owner, ['users:write']);
      await expectError(
        await api.call('/api/v1/auth/me', withKey(key, 'PATCH', { full_name: 'Bot' })),
        403,
        'PERMISSION_DENIED',
      );
    });
  });

  describe('invitations', () => {
    it('an invitation is not a membership until accepted: no login, no access, not a user of the organization', async () => {
      const owner = await registerOwner(api, 'inviter');
      const holder = await registerOwner(api, 'holder');
      const created = await api.call(
        '/api/v1/users',
        as(owner, 'POST', { username: uniqueName('ignored'), email: holder.email, role: 'admin' }),
      );
      const invitation = (await expectStatus<One<InvitationBody>>(created, 202)).data;
      expect(invitation).toMatchObject({
        organization_id: owner.organizationId,
        organization_name: `${owner.username} inc`,
        user_id: holder.userId,
        email: holder.email,
        role: 'admin',
        status: 'invited',
      });
      const expires = Date.parse(invitation.expires_at) - Date.now();
      expect(expires).toBeGreaterThan(7 * 86_400_000 - 60_000);
      expect(expires).toBeLessThanOrEqual(7 * 86_400_000);

      expect((await loginWith(holder.username, PASSWORD, owner.organizationId)).status).toBe(401);
      await expectError(
        await api.call(`/api/v1/users/${holder.userId}`, as(owner, 'GET')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      const listed = (await members(owner)).find((row) => row.user_id === holder.userId);
      expect(listed).toMatchObject({ status: 'invited', username: null, full_name: null });
      // Only the holder answers it; another account (or a key) cannot.
      const stranger = await registerOwner(api, 'stranger');
      await expectError(
        await api.call(`/api/v1/auth/invitations/${invitation.id}/accept`, as(stranger, 'POST')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      const key = await createKey(holder, ['users:read']);
      await expectError(
        await api.call(`/api/v1/auth/invitations/${invitation.id}/accept`, withKey(key, 'POST')),
        403,
        'PERMISSION_DENIED',
      );

      const pending = await invitationsOf(api, holder);
      expect(pending.map((entry) => entry.id)).toEqual([invitation.id]);
      const accepted = await api.call(
        `/api/v1/auth/invitations/${invitation.id}/accept`,
        as(holder, 'POST'),
      );
      expect((await expectStatus<One<unknown>>(accepted, 200)).data).toMatchObject({
        organization_id: owner.organizationId,
        role: 'admin',
      });
      const inside = await login(api, holder.username, owner.organizationId);
      expect((await get<One<UserRow>>(inside, `/api/v1/users/${holder.userId}`)).data.role).toBe(
        'admin',
      );
      expect(await invitationsOf(api, holder)).toEqual([]);
      const audit = await auditOf(owner, `target_id=${holder.userId}`);
      expect(audit.map((entry) => entry.action)).toEqual(
        expect.arrayContaining(['organization.member_invited', 'organization.invitation_accepted']),
      );
    });

    it('a declined or expired invitation leaves nothing', async () => {
      const owner = await registerOwner(api, 'inviter2');
      const decliner = await registerOwner(api, 'decliner');
      const lapser = await registerOwner(api, 'lapser');
      const invite = async (holder: Account) =>
        (
          await expectStatus<One<InvitationBody>>(
            await api.call(
              `/api/v1/organizations/${owner.organizationId}/members`,
              as(owner, 'POST', { user_id: holder.userId, role: 'member' }),
            ),
            202,
          )
        ).data;
      const declined = await invite(decliner);
      expect(declined.email).toBeNull();
      const lapsed = await invite(lapser);

      const answer = await api.call(
        `/api/v1/auth/invitations/${declined.id}/decline`,
        as(decliner, 'POST'),
      );
      expect(await expectStatus(answer, 204)).toBeUndefined();
      await db.query(
        "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1",
        [lapsed.id],
      );

      expect(await invitationsOf(api, decliner)).toEqual([]);
      expect(await invitationsOf(api, lapser)).toEqual([]);
      await expectError(
        await api.call(`/api/v1/auth/invitations/${lapsed.id}/accept`, as(lapser, 'POST')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      await expectError(
        await api.call(`/api/v1/auth/invitations/${declined.id}/accept`, as(decliner, 'POST')),
        404,
        'RESOURCE_NOT_FOUND',
      );
      const rows = await members(owner);
      expect(rows.map((row) => row.user_id)).toEqual([owner.userId]);
      const left = await db.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM invitations WHERE organization_id = $1',
        [owner.organizationId],
      );
      expect(left[0]?.n).toBe(0);
      const memberships = await db.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1',
        [owner.organizationId],
      );
      expect(memberships[0]?.n).toBe(1);
      for (const holder of [decliner, lapser]) {
        expect((await loginWith(holder.username, PASSWORD, owner.organizationId)).status).toBe(401);
      }
      const audit = await auditOf(owner, `target_id=${decliner.userId}`);
      expect(audit.map((entry) => entry.action)).toEqual([
        'organization.invitation_declined',
        'organization.member_invited',
      ]);
      // Nothing left means they can be invited again.
      expect((await invite(decliner)).status).toBe('invited');
    });
  });

  describe('API keys', () => {
    it('with users:write and members:write, a key cannot set passwords or roles (403)', async () => {
      const owner = await registerOwner(api, 'keys');
      const member = await addMember(api, owner, 'member');
      const key = await createKey(owner, ['users:read', 'users:write', 'members:write']);
      const fresh = () => {
        const username = uniqueName('bot');
        return { username, email: `${username}@example.com` };
      };
      const refused: [string, RequestInit][] = [
        ['/api/v1/users', withKey(key, 'POST', { ...fresh(), password: PASSWORD })],
        ['/api/v1/users', withKey(key, 'POST', { ...fresh(), role: 'viewer' })],
        [`/api/v1/users/${member.userId}`, withKey(key, 'PATCH', { role: 'admin' })],
        [`/api/v1/users/${member.userId}`, withKey(key, 'PATCH', { password: PASSWORD })],
        [
          `/api/v1/organizations/${owner.organizationId}/members/${member.userId}`,
          withKey(key, 'PATCH', { role: 'admin' }),
        ],
        [
          `/api/v1/organizations/${owner.organizationId}/members`,
          withKey(key, 'POST', { email: (await registerOwner(api, 'k')).email, role: 'viewer' }),
        ],
        [`/api/v1/users/${member.userId}/password-reset`, withKey(key, 'POST')],
      ];
      for (const [path, init] of refused) {
        await expectError(await api.call(path, init), 403, 'PERMISSION_DENIED');
      }
      const batch = await api.call(
        '/api/v1/users/batch',
        withKey(key, 'POST', { users: [{ ...fresh(), password: PASSWORD }, fresh()] }),
      );
      const items = (await expectStatus<One<{ status: number }[]>>(batch, 200)).data;
      expect(items.map((item) => item.status)).toEqual([403, 201]);
      expect((await get<One<UserRow>>(owner, `/api/v1/users/${member.userId}`)).data.role).toBe(
        'member',
      );
    });
  });
});
