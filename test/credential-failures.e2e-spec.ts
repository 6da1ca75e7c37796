import { randomInt } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { generateSecret } from '../src/modules/keys/key-secret.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
}

/**
 * A GET sent from `from`, one of the loopback addresses (127.0.0.0/8), so each test is its own
 * client address (request.ip) without any proxy header.
 */
function callFrom(
  app: TestApp,
  from: string,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  const url = new URL(path, app.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'GET',
        headers,
        localAddress: from,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const body: { error?: { code: string } } =
            text === '' ? {} : (JSON.parse(text) as { error?: { code: string } });
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            code: body.error?.code,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A fresh client address for one test. */
const address = () => `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

const LIMIT = 5;

describe('failed credentials are limited per client address', () => {
  let api: TestApp;
  let other: TestApp;
  let owner: Account;
  /** Key lookups by secret hash that reached Postgres, on `api`. */
  let keyLookups = 0;

  beforeAll(async () => {
    const env = { AUTH_FAILURES_PER_IP: String(LIMIT) };
    [api, other] = await Promise.all([startApp({ env }), startApp({ env })]);
    owner = await registerOwner(api);
    // Counts the queries this api process sends, through TypeORM's logger (every query passes it).
    const logger = api.app.get(DataSource).logger;
    const logQuery = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner) => {
      if (/FROM "api_keys"/.test(query) && /secret_hash" = \$1/.test(query)) keyLookups += 1;
      logQuery(query, parameters, runner);
    };
  });

  afterAll(async () => {
    await Promise.all([api.close(), other.close()]);
  });

  async function createKey(): Promise<{ id: string; key: string }> {
    const response = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'k', environment: 'live', permissions: ['users:read'] }),
    );
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: { id: string; key: string } }).data;
  }

  const me = (app: TestApp, from: string, headers: Record<string, string>) =>
    callFrom(app, from, '/api/v1/auth/me', headers);

  it('answers 429 with Retry-After past the limit, while valid credentials from that address still work', async () => {
    const attacker = address();
    const cached = await createKey();
    expect((await me(api, attacker, { 'x-api-key': cached.key })).status).toBe(200);
    const uncached = await createKey();

    for (let i = 0; i < LIMIT; i += 1) {
      const answer = await me(api, attacker, { 'x-api-key': generateSecret('live') });
      expect([answer.status, answer.code]).toEqual([401, 'API_KEY_INVALID']);
    }
    const refused = await me(api, attacker, { 'x-api-key': generateSecret('live') });
    expect([refused.status, refused.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    // Malformed keys and bad tokens are failures too.
    expect((await me(api, attacker, { 'x-api-key': 'sk_live_nope' })).status).toBe(429);
    expect((await me(api, attacker, { authorization: 'Bearer not.a.token' })).status).toBe(429);

    // A valid key (cached here or not) and a valid token from the same address: 200.
    expect((await me(api, attacker, { 'x-api-key': cached.key })).status).toBe(200);
    expect((await me(api, attacker, { 'x-api-key': uncached.key })).status).toBe(200);
    expect((await me(api, attacker, owner.auth)).status).toBe(200);
    // The other process has cached neither key: both work there too, and the limit holds there.
    expect((await me(other, attacker, { 'x-api-key': cached.key })).status).toBe(200);
    expect((await me(other, attacker, { 'x-api-key': generateSecret('live') })).status).toBe(429);

    // Another address is not affected.
    const bystander = await me(api, address(), { 'x-api-key': generateSecret('live') });
    expect([bystander.status, bystander.code]).toEqual([401, 'API_KEY_INVALID']);
  });

  it('a key created or rotated is usable at once on both processes, even from a blocked address', async () => {
    const attacker = address();
    for (let i = 0; i <= LIMIT; i += 1)
      await me(api, attacker, { 'x-api-key': generateSecret('live') });
    expect((await me(other, attacker, { 'x-api-key': generateSecret('live') })).status).toBe(429);

    const created = await createKey();
    for (const app of [api, other]) {
      expect((await me(app, attacker, { 'x-api-key': created.key })).status).toBe(200);
    }
    const rotated = await api.call(`/api/v1/keys/${created.id}/rotate`, as(owner, 'POST', {}));
    expect(rotated.status).toBe(201);
    const { key } = ((await rotated.json()) as { data: { key: string } }).data;
    for (const app of [api, other]) {
      expect((await me(app, attacker, { 'x-api-key': key })).status).toBe(200);
      // Without a grace period the old secret is an unknown one now.
      expect((await me(app, attacker, { 'x-api-key': created.key })).status).toBe(429);
    }
  });

  it('a flood of distinct unknown keys from one address costs at most the limit in lookups', async () => {
    const attacker = address();
    const before = keyLookups;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i += 1) {
      const { status } = await me(api, attacker, { 'x-api-key': generateSecret('test') });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: LIMIT, 429: 200 - LIMIT });
    expect(keyLookups - before).toBe(LIMIT);
  });

  it('an unknown key sent again is answered from memory, without a query', async () => {
    const client = address();
    const forged = generateSecret('live');
    const before = keyLookups;
    for (let i = 0; i < LIMIT; i += 1) {
      const answer = await me(api, client, { 'x-api-key': forged });
      expect([answer.status, answer.code]).toEqual([401, 'API_KEY_INVALID']);
    }
    expect(keyLookups - before).toBe(1);
  });
});
