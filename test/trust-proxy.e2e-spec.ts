import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSecret } from '../src/modules/keys/key-secret.js';
import { type Account, as, registerOwner, uniqueName } from './support/identity.js';
import { type TestApp, json, startApp } from './support/test-app.js';

/** Documentation addresses (RFC 5737), different on each run so throttle counters start empty. */
const client = () => `203.0.113.${randomInt(1, 255)}`;
const otherClient = () => `198.51.100.${randomInt(1, 255)}`;

const THROTTLE = {
  AUTH_THROTTLE_PER_IP: '3',
  AUTH_THROTTLE_PER_ACCOUNT: '1000',
  AUTH_FAILURES_PER_IP: '3',
};

describe('client addresses behind a proxy (TRUST_PROXY)', () => {
  let untrusting: TestApp;
  let trusting: TestApp;
  let hops: TestApp;
  let owner: Account;
  let keySecret: string;

  beforeAll(async () => {
    [untrusting, trusting, hops] = await Promise.all([
      startApp({ env: THROTTLE }),
      startApp({ env: { ...THROTTLE, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' } }),
      startApp({ env: { TRUST_PROXY: '1' } }),
    ]);
    // Not through the apps with a per-IP limit of 3: the whole run logs in from 127.0.0.1.
    owner = await registerOwner(hops);
    const created = await hops.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'office only',
        environment: 'live',
        permissions: ['users:read'],
        allowed_ips: ['203.0.113.0/24'],
      }),
    );
    expect(created.status).toBe(201);
    keySecret = ((await created.json()) as { data: { key: string } }).data.key;
  });

  afterAll(async () => {
    await Promise.all([untrusting.close(), trusting.close(), hops.close()]);
  });

  const withKey = (api: TestApp, forwardedFor?: string) =>
    api.call('/api/v1/auth/me', {
      headers: {
        'x-api-key': keySecret,
        ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
      },
    });

  const failedLogin = (api: TestApp, forwardedFor: string) =>
    api.call(
      '/api/v1/auth/login',
      json(
        'POST',
        { login: uniqueName('nobody'), password: 'wrong password' },
        { 'x-forwarded-for': forwardedFor },
      ),
    );

  /** The ip of the audit entry of a project created through `api` with this X-Forwarded-For. */
  async function auditedIp(api: TestApp, forwardedFor: string): Promise<string | null> {
    const created = await api.call(
      '/api/v1/projects',
      json(
        'POST',
        { name: uniqueName('proxied') },
        { ...owner.auth, 'x-forwarded-for': forwardedFor },
      ),
    );
    expect(created.status).toBe(201);
    const { id } = ((await created.json()) as { data: { id: number } }).data;
    const audit = await api.call(
      `/api/v1/audit?target_type=project&target_id=${id}`,
      as(owner, 'GET'),
    );
    const { data } = (await audit.json()) as { data: { action: string; ip: string | null }[] };
    expect(data.map((entry) => entry.action)).toEqual(['project.created']);
    return data[0]?.ip ?? null;
  }

  describe('from a peer that is not trusted (TRUST_PROXY unset)', () => {
    it('a forged X-Forwarded-For does not pass an IP allowlist', async () => {
      const response = await withKey(untrusting, client());
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'IP_NOT_ALLOWED',
      );
    });

    it('a forged X-Forwarded-For does not get a fresh login throttle', async () => {
      // Each attempt claims another address; the peer's own bucket still fills up.
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        statuses.push((await failedLogin(untrusting, client())).status);
      }
      expect(statuses).toContain(429);
    });

    it('audit entries record the peer, not the forged address', async () => {
      expect(await auditedIp(untrusting, client())).toBe('127.0.0.1');
    });
  });

  describe('from a trusted peer (TRUST_PROXY=127.0.0.1, 10.0.0.0/8)', () => {
    it("IP allowlists see the client's address", async () => {
      expect((await withKey(trusting, client())).status).toBe(200);
      // Without the header the peer itself is the client, and it is not on the list.
      expect((await withKey(trusting)).status).toBe(403);
      // Only trusted hops are skipped: the address the proxy saw decides, whatever the client
      // put in front of it.
      expect((await withKey(trusting, `${client()}, ${otherClient()}`)).status).toBe(403);
      expect((await withKey(trusting, `${otherClient()}, ${client()}`)).status).toBe(200);
      expect((await withKey(trusting, `${client()}, 10.1.2.3`)).status).toBe(200);
    });

    it("the per-IP login throttle counts each client's address on its own", async () => {
      const noisy = client();
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 4; attempt += 1) {
        statuses.push((await failedLogin(trusting, noisy)).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      // Another client behind the same proxy is not locked out.
      expect((await failedLogin(trusting, otherClient())).status).toBe(401);
    });

    it("audit entries record the client's address", async () => {
      const address = client();
      expect(await auditedIp(trusting, address)).toBe(address);
    });

    it("failed credentials are limited per client's address, before routing too", async () => {
      const forged = (path: string, forwardedFor: string) =>
        trusting.call(path, {
          headers: { 'x-api-key': generateSecret('live'), 'x-forwarded-for': forwardedFor },
        });
      const noisy = client();
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        statuses.push((await forged('/api/v1/auth/me', noisy)).status);
      }
      expect(statuses).toEqual([401, 401, 401]);
      expect((await forged('/api/v1/no-such-route', noisy)).status).toBe(429);
      // Another client behind the same proxy reaches the router.
      expect((await forged('/api/v1/no-such-route', otherClient())).status).toBe(404);
    });
  });

  it('a hop count (TRUST_PROXY=1) takes the address the nearest proxy saw', async () => {
    const address = client();
    expect(await auditedIp(hops, `${otherClient()}, ${address}`)).toBe(address);
    expect((await withKey(hops, `${otherClient()}, ${address}`)).status).toBe(200);
  });
});
