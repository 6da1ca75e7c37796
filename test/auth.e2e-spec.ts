import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { AuthConfig } from '../src/config/config.classes.js';
import { keyIdOf } from '../src/modules/auth/jwt-keys.js';
import {
  type Account,
  PASSWORD,
  as,
  login,
  registerOwner,
  uniqueName,
} from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';

interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

interface AuditBody {
  data: {
    action: string;
    actor: { type: string; id: string | null };
    changes: unknown;
    request_id: string;
  }[];
  total: number;
}

describe('auth', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startApp();
  });

  afterAll(async () => {
    await api.close();
  });

  describe('register and login', () => {
    it('registers a user who owns a new organization, without exposing the password', async () => {
      const username = uniqueName('reg');
      const response = await api.call(
        '/api/v1/auth/register',
        json('POST', {
          username,
          email: `${username}@Example.com`,
          password: PASSWORD,
          full_name: 'Reg Istered',
        }),
      );
      expect(response.status).toBe(201);
      const text = await response.text();
      expect(text).not.toMatch(/password|hash|argon/i);
      const { data } = JSON.parse(text) as { data: Record<string, unknown> };
      expect(data).toMatchObject({
        username,
        email: `${username}@example.com`,
        full_name: 'Reg Istered',
        role: 'owner',
      });
    });

    it('rejects a duplicate username or email (any case) with 409', async () => {
      const owner = await registerOwner(api);
      for (const body of [
        { username: owner.username.toUpperCase(), email: `${uniqueName()}@example.com` },
        { username: uniqueName(), email: owner.email.toUpperCase() },
      ]) {
        const response = await api.call(
          '/api/v1/auth/register',
          json('POST', { ...body, password: PASSWORD }),
        );
        expect(response.status).toBe(409);
        expect(((await response.json()) as ErrorBody).error.code).toBe('CONFLICT');
      }
    });

    it('logs in by username, email or login and returns a top-level bearer token response', async () => {
      const owner = await registerOwner(api);
      for (const field of ['username', 'email', 'login'] as const) {
        const value = field === 'email' ? owner.email : owner.username;
        const response = await api.call(
          '/api/v1/auth/login',
          json('POST', { [field]: value, password: PASSWORD }),
        );
        expect(response.status).toBe(200);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toMatchObject({
          token_type: 'bearer',
          expires_in: 900,
          user: { id: owner.userId },
        });
        expect(typeof body.access_token).toBe('string');
        expect(body.refresh_token).toMatch(/^rt_/);
        expect(body).not.toHaveProperty('data');
      }
    });

    it('answers the same 401 for an unknown user and a wrong password, in similar time', async () => {
      const owner = await registerOwner(api);
      const time = async (body: object) => {
        const started = performance.now();
        const response = await api.call('/api/v1/auth/login', json('POST', body));
        return {
          ms: performance.now() - started,
          status: response.status,
          body: (await response.json()) as ErrorBody,
        };
      };
      const wrong = [];
      const unknown = [];
      for (let i = 0; i < 3; i += 1) {
        wrong.push(await time({ login: owner.username, password: 'not the password' }));
        unknown.push(await time({ login: uniqueName('ghost'), password: 'not the password' }));
      }
      for (const attempt of [...wrong, ...unknown]) {
        expect(attempt.status).toBe(401);
        expect(attempt.body.error).toMatchObject({
          code: 'AUTHENTICATION_FAILED',
          message: 'Invalid login or password',
        });
      }
      const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[1] ?? 0;
      const ratio = median(unknown) / median(wrong);
      // Both paths run one argon2 verification (~tens of ms); without the decoy an unknown
      // user would answer in well under a millisecond. A 3x band keeps CI load from flaking.
      expect(ratio).toBeGreaterThan(1 / 3);
      expect(ratio).toBeLessThan(3);
    });

    it('logs in to a chosen organization only if the user belongs to it', async () => {
      const owner = await registerOwner(api);
      const other = await registerOwner(api);
      const ok = await api.call(
        '/api/v1/auth/login',
        json('POST', {
          login: owner.username,
          password: PASSWORD,
          organization_id: owner.organizationId,
        }),
      );
      expect(ok.status).toBe(200);
      const foreign = await api.call(
        '/api/v1/auth/login',
        json('POST', {
          login: owner.username,
          password: PASSWORD,
          organization_id: other.organizationId,
        }),
      );
      expect(foreign.status).toBe(401);
    });

    it('/me describes the user, the token’s organization, role, permissions and memberships', async () => {
      const owner = await registerOwner(api);
      const response = await api.call('/api/v1/auth/me', { headers: owner.auth });
      expect(response.status).toBe(200);
      const { data } = (await response.json()) as { data: Record<string, unknown> };
      expect(data).toMatchObject({
        type: 'user',
        id: owner.userId,
        username: owner.username,
        organization_id: owner.organizationId,
        role: 'owner',
        organizations: [{ id: owner.organizationId, role: 'owner' }],
      });
      expect(data.permissions).toEqual(
        expect.arrayContaining(['admin', 'org:delete', 'users:write']),
      );
    });
  });

  describe('access tokens', () => {
    it('401 AUTHENTICATION_FAILED without a credential, and for a forged or malformed token', async () => {
      const owner = await registerOwner(api);
      const [header, payload] = owner.accessToken.split('.');
      const forged = `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`;
      const attempts: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${forged}` },
        { authorization: 'Bearer nope' },
        { authorization: 'Basic abc' },
      ];
      for (const headers of attempts) {
        const response = await api.call('/api/v1/auth/me', { headers });
        expect(response.status).toBe(401);
        expect(((await response.json()) as ErrorBody).error.code).toBe('AUTHENTICATION_FAILED');
      }
    });

    it('401 AUTHENTICATION_FAILED saying to use X-API-Key for a key sent as a bearer token', async () => {
      const owner = await registerOwner(api);
      const created = await api.call(
        '/api/v1/keys',
        as(owner, 'POST', { name: 'misplaced', environment: 'live', permissions: ['users:read'] }),
      );
      const { data: key } = (await created.json()) as { data: { key: string } };
      const response = await api.call('/api/v1/auth/me', {
        headers: { authorization: `Bearer ${key.key}` },
      });
      expect(response.status).toBe(401);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.code).toBe('AUTHENTICATION_FAILED');
      expect(error.message).toContain('X-API-Key');
      // The same key where it belongs.
      expect(
        (await api.call('/api/v1/auth/me', { headers: { 'x-api-key': key.key } })).status,
      ).toBe(200);
    });

    it('401 TOKEN_EXPIRED for an expired token', async () => {
      const owner = await registerOwner(api);
      const secret = api.app.get(AuthConfig).jwtSecret;
      const expired = jwt.sign(
        {
          sub: owner.userId,
          org: owner.organizationId,
          role: 'owner',
          pa: false,
          exp: Math.floor(Date.now() / 1000) - 10,
        },
        secret,
        {
          algorithm: 'HS256',
          keyid: keyIdOf(secret),
          issuer: 'gatehouse',
          audience: 'gatehouse-api',
        },
      );
      const response = await api.call('/api/v1/auth/me', {
        headers: { authorization: `Bearer ${expired}` },
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as ErrorBody).error.code).toBe('TOKEN_EXPIRED');
    });

    it('rejects tokens signed with an unknown key or another algorithm', async () => {
      const owner = await registerOwner(api);
      const claims = { sub: owner.userId, org: owner.organizationId, role: 'owner', pa: true };
      const options = { issuer: 'gatehouse', audience: 'gatehouse-api', expiresIn: 300 } as const;
      const otherKey = jwt.sign(claims, 'x'.repeat(40), {
        ...options,
        algorithm: 'HS256',
        keyid: keyIdOf('x'.repeat(40)),
      });
      const none = jwt.sign(claims, '', { ...options, algorithm: 'none' });
      for (const token of [otherKey, none]) {
        const response = await api.call('/api/v1/auth/me', {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(401);
      }
    });
  });

  describe('refresh tokens', () => {
    it('rotates on every refresh; a reused token revokes the whole family', async () => {
      const owner = await registerOwner(api);
      const first = await api.call(
        '/api/v1/auth/refresh',
        json('POST', { refresh_token: owner.refreshToken }),
      );
      expect(first.status).toBe(200);
      const rotated = (await first.json()) as { refresh_token: string; access_token: string };
      expect(rotated.refresh_token).not.toBe(owner.refreshToken);

      const replay = await api.call(
        '/api/v1/auth/refresh',
        json('POST', { refresh_token: owner.refreshToken }),
      );
      expect(replay.status).toBe(401);
      // The family is gone: even the newest token no longer works.
      const newest = await api.call(
        '/api/v1/auth/refresh',
        json('POST', { refresh_token: rotated.refresh_token }),
      );
      expect(newest.status).toBe(401);

      const audit = await api.call('/api/v1/audit?action=auth.refresh_reuse_detected', {
        headers: owner.auth,
      });
      expect(((await audit.json()) as AuditBody).total).toBe(1);
    });

    it('logout revokes the session (204), and an unknown token is a 401 on refresh', async () => {
      const owner = await registerOwner(api);
      const logout = await api.call(
        '/api/v1/auth/logout',
        json('POST', { refresh_token: owner.refreshToken }),
      );
      expect(logout.status).toBe(204);
      expect(await logout.text()).toBe('');
      const refresh = await api.call(
        '/api/v1/auth/refresh',
        json('POST', { refresh_token: owner.refreshToken }),
      );
      expect(refresh.status).toBe(401);
      const unknown = await api.call(
        '/api/v1/auth/refresh',
        json('POST', { refresh_token: 'rt_unknown' }),
      );
      expect(unknown.status).toBe(401);
    });
  });

  describe('audit of auth events', () => {
    it('records register, login success and failure, and logout, with no secrets', async () => {
      const owner = await registerOwner(api);
      await api.call(
        '/api/v1/auth/login',
        json('POST', { login: owner.username, password: 'wrong password!' }),
      );
      await api.call('/api/v1/auth/logout', json('POST', { refresh_token: owner.refreshToken }));
      const fresh = await login(api, owner.username);
      const response = await api.call('/api/v1/audit?limit=100', { headers: fresh.auth });
      const text = await response.text();
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('wrong password!');
      expect(text).not.toContain(owner.refreshToken);
      expect(text).not.toMatch(/\$argon2/);
      const actions = (JSON.parse(text) as AuditBody).data.map((entry) => entry.action);
      expect(actions).toEqual(
        expect.arrayContaining(['user.registered', 'auth.login', 'auth.logout']),
      );
      // A failed login is not tied to an organization, so it is kept outside every tenant's trail.
      expect(actions).not.toContain('auth.login_failed');
    });
  });
});

describe('login throttling', () => {
  let api: TestApp;
  let owner: Account;

  beforeAll(async () => {
    api = await startApp({ env: { AUTH_THROTTLE_PER_IP: '1000', AUTH_THROTTLE_PER_ACCOUNT: '3' } });
    owner = await registerOwner(api, 'throttled');
  });

  afterAll(async () => {
    await api.close();
  });

  it('429 RATE_LIMIT_EXCEEDED with Retry-After once an account passes its limit, whatever the password', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await api.call(
        '/api/v1/auth/login',
        json('POST', { login: owner.username.toUpperCase(), password: 'wrong password' }),
      );
      statuses.push(last.status);
    }
    // registerOwner already logged in once: attempts 2 and 3 are 401, then 429.
    expect(statuses).toEqual([401, 401, 429, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await last?.json()) as ErrorBody;
    expect(body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    const correct = await api.call(
      '/api/v1/auth/login',
      json('POST', { login: owner.username, password: PASSWORD }),
    );
    expect(correct.status).toBe(429);
  });

  it('does not limit other accounts', async () => {
    const other = await registerOwner(api, 'unthrottled');
    expect(other.accessToken).toBeTruthy();
    const me = await api.call('/api/v1/auth/me', as(other, 'GET'));
    expect(me.status).toBe(200);
  });

  it("a wrong current_password on PATCH /auth/me is 401 and counts toward the account's login limit", async () => {
    const holder = await registerOwner(api, 'guessed');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await api.call(
        '/api/v1/auth/me',
        as(holder, 'PATCH', { password: 'a new passphrase', current_password: `guess ${i}` }),
      );
      statuses.push(response.status);
    }
    // One login (registerOwner) and two guesses fill the limit of 3; the rest are refused.
    expect(statuses).toEqual([401, 401, 429, 429]);
    for (const loginName of [holder.username, holder.email]) {
      const byLogin = await api.call(
        '/api/v1/auth/login',
        json('POST', { login: loginName, password: PASSWORD }),
      );
      expect(byLogin.status).toBe(429);
    }
  });
});

describe('idempotency with credentials', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startApp();
  });

  afterAll(async () => {
    await api.close();
  });

  it('scopes keys to the caller: two users may use the same key for different requests', async () => {
    const first = await registerOwner(api);
    const second = await registerOwner(api);
    const key = `shared-${Date.now()}`;
    const create = (account: Account, name: string) =>
      api.call('/api/v1/projects', {
        ...as(account, 'POST', { name }),
        headers: { ...account.auth, 'content-type': 'application/json', 'idempotency-key': key },
      });
    const a = await create(first, 'First project');
    const b = await create(second, 'Second project');
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    const replay = await create(first, 'First project');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await a.json());
  });

  it('never stores login responses: the header is ignored and each login issues new tokens', async () => {
    const owner = await registerOwner(api);
    const attempt = () =>
      api.call(
        '/api/v1/auth/login',
        json(
          'POST',
          { login: owner.username, password: PASSWORD },
          { 'idempotency-key': 'login-once' },
        ),
      );
    const one = (await (await attempt()).json()) as { refresh_token: string };
    const two = await attempt();
    expect(two.headers.get('idempotent-replayed')).toBeNull();
    expect(((await two.json()) as { refresh_token: string }).refresh_token).not.toBe(
      one.refresh_token,
    );
  });
});
