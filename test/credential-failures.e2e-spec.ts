import { randomInt } from 'node:crypto';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import type { ErrorBody } from '../src/common/exception.filter.js';
import { AuthConfig } from '../src/config/config.classes.js';
import { keyIdOf } from '../src/modules/auth/jwt-keys.js';
import { generateSecret } from '../src/modules/keys/key-secret.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
  headers: IncomingHttpHeaders;
  /** The error body, when the answer is one. */
  error: ErrorBody['error'] | undefined;
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
          const body = (text === '' ? {} : JSON.parse(text)) as Partial<ErrorBody>;
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            code: body.error?.code,
            headers: res.headers,
            error: body.error,
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
    }
    // Without a grace period the old secret is an unknown one now: at once where it was
    // rotated; on the other process once the change has reached it over Redis pub/sub (it had
    // the old secret cached), which is a race with this request, so it is waited for.
    expect((await me(api, attacker, { 'x-api-key': created.key })).status).toBe(429);
    await eventually(async () =>
      expect((await me(other, attacker, { 'x-api-key': created.key })).status).toBe(429),
    );
  });

  it("refuses a blocked address's failed credentials before routing, with the guard's own 429", async () => {
    const attacker = address();
    const cached = await createKey();
    expect((await me(api, attacker, { 'x-api-key': cached.key })).status).toBe(200);
    for (let i = 0; i < LIMIT; i += 1)
      await me(api, attacker, { 'x-api-key': generateSecret('live') });
    const missing = (app: TestApp, from: string, headers: Record<string, string> = {}) =>
      callFrom(app, from, '/api/v1/no-such-route', headers);

    // A forged key or token: 429 even where no route (so no guard, no handler) would run,
    // and without a query.
    const lookupsBefore = keyLookups;
    const forgeries: Record<string, string>[] = [
      { 'x-api-key': generateSecret('live') },
      { 'x-api-key': 'sk_live_nope' },
      { authorization: 'Bearer not.a.token' },
      { authorization: 'Basic YTpi' },
    ];
    for (const headers of forgeries) {
      const refused = await missing(api, attacker, headers);
      expect([refused.status, refused.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(refused.error?.details).toEqual({
        limit: LIMIT,
        window: 60,
        reset_at: expect.any(String),
      });
      expect(refused.error?.request_id).toBe(refused.headers['x-request-id']);
    }
    expect(keyLookups).toBe(lookupsBefore);
    // The same address without a credential, or with valid ones, reaches the router: 404.
    for (const headers of [{}, { 'x-api-key': cached.key }, owner.auth]) {
      expect((await missing(api, attacker, headers)).status).toBe(404);
    }
    // An expired token is no failure: its own 401 says to refresh.
    const secret = api.app.get(AuthConfig).jwtSecret;
    const expired = jwt.sign(
      { sub: owner.userId, org: owner.organizationId, role: 'owner', pa: false },
      secret,
      {
        algorithm: 'HS256',
        keyid: keyIdOf(secret),
        issuer: 'gatehouse',
        audience: 'gatehouse-api',
        expiresIn: -10,
      },
    );
    const late = await me(api, attacker, { authorization: `Bearer ${expired}` });
    expect([late.status, late.code]).toEqual([401, 'TOKEN_EXPIRED']);
    // Another address's forged key on that URL is not refused: 404.
    expect((await missing(api, address(), { 'x-api-key': generateSecret('live') })).status).toBe(
      404,
    );

    // The other process learns of the block from Redis, in the guard (its first refusal);
    // then it refuses before routing, answering the same.
    const byGuard = await me(other, attacker, { 'x-api-key': generateSecret('live') });
    const beforeRouting = await me(other, attacker, { 'x-api-key': generateSecret('live') });
    expect(beforeRouting.status).toBe(429);
    expect(byGuard.status).toBe(429);
    const volatile = new Set(['date', 'x-request-id', 'retry-after', 'content-length']);
    const stable = (headers: IncomingHttpHeaders) =>
      Object.fromEntries(Object.entries(headers).filter(([name]) => !volatile.has(name)));
    expect(stable(beforeRouting.headers)).toEqual(stable(byGuard.headers));
    expect(Object.keys(beforeRouting.headers).sort()).toEqual(Object.keys(byGuard.headers).sort());
    // Security headers included (helmet's hook runs before this one).
    expect(beforeRouting.headers['x-content-type-options']).toBe('nosniff');
    const comparable = (answer: Answer) => ({
      code: answer.error?.code,
      details: { ...(answer.error?.details as object), reset_at: null },
    });
    expect(comparable(beforeRouting)).toEqual(comparable(byGuard));
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
