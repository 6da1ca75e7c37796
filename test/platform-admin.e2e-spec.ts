import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { freePort } from '../src/launcher/ports.js';
import {
  type Account,
  PASSWORD,
  as,
  login,
  registerOwner,
  uniqueName,
} from './support/identity.js';
import { killBuiltProcesses, runBuilt, startBuilt } from './support/built-process.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

interface AuditRow {
  action: string;
  actor_type: string;
  actor_id: string | null;
  organization_id: string | null;
  ip: string | null;
  changes: Record<string, unknown> | null;
}

const ADMIN_PASSWORD = 'an admin password that is long';

/** A change only a platform administrator may make, and harmless here: its own org's tier. */
async function changeOwnTier(api: TestApp, account: Account): Promise<number> {
  const response = await api.call(
    `/api/v1/organizations/${account.organizationId}`,
    as(account, 'PATCH', { tier: 'standard' }),
  );
  return response.status;
}

async function loginWith(api: TestApp, loginName: string, password: string): Promise<Account> {
  const response = await api.call(
    '/api/v1/auth/login',
    json('POST', { login: loginName, password }),
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string; user: { id: string } };
  const auth = { authorization: `Bearer ${body.access_token}` };
  const me = (await (await api.call('/api/v1/auth/me', { headers: auth })).json()) as {
    data: { organization_id: string; username: string; email: string };
  };
  return {
    userId: body.user.id,
    username: me.data.username,
    email: me.data.email,
    organizationId: me.data.organization_id,
    accessToken: body.access_token,
    refreshToken: '',
    auth,
  };
}

describe('the first platform administrator (ADMIN_EMAIL + ADMIN_PASSWORD)', () => {
  let api: TestApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    api = await startApp();
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    killBuiltProcesses();
    await api.close();
  });

  const usersWithEmail = (email: string) =>
    dataSource.query<{ id: string; is_platform_admin: boolean }[]>(
      'SELECT id, is_platform_admin FROM users WHERE email = $1',
      [email],
    );

  it('is created once, with an organization it owns, when several processes start at once', async () => {
    const email = `${uniqueName('first')}@example.com`;
    const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD };
    const apps = await Promise.all([1, 2, 3, 4].map(() => startApp({ env })));
    try {
      const users = await usersWithEmail(email);
      expect(users).toEqual([{ id: expect.any(String), is_platform_admin: true }]);
      const memberships = await dataSource.query<{ role: string }[]>(
        'SELECT role FROM memberships WHERE user_id = $1',
        [users[0]?.id],
      );
      expect(memberships).toEqual([{ role: 'owner' }]);
      const audit = await dataSource.query<AuditRow[]>(
        'SELECT action, actor_type, actor_id, organization_id, ip, changes FROM audit_log WHERE target_id = $1',
        [users[0]?.id],
      );
      expect(audit).toEqual([
        expect.objectContaining({
          action: 'user.registered',
          actor_type: 'system',
          actor_id: 'ADMIN_EMAIL',
          ip: null,
          changes: expect.objectContaining({ email, is_platform_admin: true }),
        }),
      ]);
      expect(JSON.stringify(audit)).not.toContain(ADMIN_PASSWORD);

      // The operator logs in with the email and password they set; the token carries the status.
      const admin = await loginWith(apps[1] ?? api, email, ADMIN_PASSWORD);
      expect(await changeOwnTier(apps[2] ?? api, admin)).toBe(200);

      // A later start with the same settings changes nothing.
      const again = await startApp({ env });
      await again.close();
      expect(await usersWithEmail(email)).toHaveLength(1);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });

  it('an existing account with that email is not promoted, and the api says so in one line', async () => {
    const existing = await registerOwner(api, 'squatter');
    const port = await freePort(44000 + Math.floor(Math.random() * 2000));
    const started = startBuilt('main', [], {
      PORT: String(port),
      LOG_LEVEL: 'log',
      ADMIN_EMAIL: existing.email.toUpperCase(),
      ADMIN_PASSWORD,
    });
    await eventually(
      () => Promise.resolve(expect(started.stdout()).toContain('api listening')),
      20_000,
    );
    started.child.kill('SIGTERM');
    await started.exited();

    const lines = started
      .output()
      .split('\n')
      .filter((line) => line.includes('ADMIN_EMAIL'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('not promoted');
    expect(lines[0]).toContain(existing.email);
    expect(started.output()).not.toContain(ADMIN_PASSWORD);

    expect(await usersWithEmail(existing.email)).toEqual([
      { id: existing.userId, is_platform_admin: false },
    ]);
    const relogged = await login(api, existing.username);
    expect(await changeOwnTier(api, relogged)).toBe(403);
  });

  it('registering with that email later does not make an administrator', async () => {
    const email = `${uniqueName('later')}@example.com`;
    const configured = await startApp({ env: { ADMIN_EMAIL: email, ADMIN_PASSWORD } });
    try {
      const register = (username: string, address: string) =>
        configured.call(
          '/api/v1/auth/register',
          json('POST', { username, email: address, password: PASSWORD }),
        );
      // Taken by the administrator the api created at start.
      expect((await register(uniqueName('later'), email.toUpperCase())).status).toBe(409);

      // The operator deleted that account; whoever registers the address now is no admin.
      await dataSource.query('DELETE FROM users WHERE email = $1', [email]);
      const username = uniqueName('later');
      const registered = await register(username, email);
      expect(registered.status).toBe(201);
      expect(
        ((await registered.json()) as { data: { is_platform_admin: boolean } }).data
          .is_platform_admin,
      ).toBe(false);
      const account = await login(configured, username);
      expect(await changeOwnTier(configured, account)).toBe(403);
      expect(await usersWithEmail(email)).toEqual([
        { id: account.userId, is_platform_admin: false },
      ]);
    } finally {
      await configured.close();
    }
  });
});

describe('npm run admin -- grant | revoke | list', () => {
  let api: TestApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    api = await startApp();
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  afterEach(() => killBuiltProcesses());

  const admin = (...args: string[]) => runBuilt('admin-cli', args);

  const auditOf = (userId: string) =>
    dataSource.query<AuditRow[]>(
      `SELECT action, actor_type, actor_id, organization_id, ip, changes FROM audit_log
       WHERE target_id = $1 AND action LIKE 'user.platform_admin_%' ORDER BY created_at`,
      [userId],
    );

  it('grants the status to an existing account, audited; its next login carries it', async () => {
    const account = await registerOwner(api, 'granted');
    expect(await changeOwnTier(api, account)).toBe(403);

    const granted = await admin('grant', account.email.toUpperCase());
    expect(granted).toMatchObject({ code: 0, stderr: '' });
    expect(granted.stdout).toContain(`granted: ${account.email}`);
    expect(await auditOf(account.userId)).toEqual([
      {
        action: 'user.platform_admin_granted',
        actor_type: 'system',
        actor_id: 'admin-cli',
        organization_id: null,
        ip: null,
        changes: { is_platform_admin: { from: false, to: true } },
      },
    ]);
    const relogged = await login(api, account.username);
    expect(await changeOwnTier(api, relogged)).toBe(200);

    // Again: nothing to change, nothing audited.
    const again = await admin('grant', account.email);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is already a platform administrator');
    expect(await auditOf(account.userId)).toHaveLength(1);

    const listed = await admin('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(account.email);
  });

  it('revokes it: a token issued before the revoke loses it on its next request', async () => {
    const account = await registerOwner(api, 'revoked');
    expect((await admin('grant', account.email)).code).toBe(0);
    const session = await login(api, account.username);
    expect(await changeOwnTier(api, session)).toBe(200);

    const revoked = await admin('revoke', account.email);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked: ${account.email}`);
    expect(await changeOwnTier(api, session)).toBe(403);
    expect((await auditOf(account.userId)).map((row) => row.action)).toEqual([
      'user.platform_admin_granted',
      'user.platform_admin_revoked',
    ]);
    expect((await admin('revoke', account.email)).stdout).toContain(
      'is not a platform administrator',
    );
  });

  it('an unknown email is exit 1 with a clear message; bad usage is exit 2 with the usage', async () => {
    const unknown = await admin('grant', 'nobody-here@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account has the email nobody-here@example.com');

    for (const args of [
      [],
      ['grant'],
      ['promote', 'a@example.com'],
      ['grant', 'not-an-email'],
      ['list', 'x'],
    ]) {
      const bad = await admin(...args);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('usage: npm run admin -- grant <email>');
    }
  });
});
