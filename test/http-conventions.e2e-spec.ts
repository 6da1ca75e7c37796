import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REDIS, type RedisClient } from '../src/redis/redis-client.js';
import { ProbeController, ProbeModule } from './support/probe.module.js';
import { scanKeys } from './support/test-redis.js';
import { type TestApp, json, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

interface ErrorBody {
  error: { code: string; message: string; details: unknown; request_id: string };
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  const body = (await response.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.request_id).toBe(response.headers.get('x-request-id'));
  return body.error;
}

describe('HTTP conventions (API.md, "Wire conventions")', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startApp({ imports: [ProbeModule] });
  });

  afterAll(async () => {
    await api.close();
  });

  describe('request ids', () => {
    it('generates a UUID when the client sends none', async () => {
      const response = await api.call('/health/live');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('echoes a sane client id and uses it in error bodies', async () => {
      const response = await api.call('/api/v1/probe/missing', {
        headers: { 'x-request-id': 'client-trace.42' },
      });
      expect(response.headers.get('x-request-id')).toBe('client-trace.42');
      expect((await errorOf(response)).request_id).toBe('client-trace.42');
    });

    it('replaces an id that is not a plain token', async () => {
      const response = await api.call('/health/live', {
        headers: { 'x-request-id': 'bad id <script>' },
      });
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('errors', () => {
    it('404 RESOURCE_NOT_FOUND for an unknown route', async () => {
      const response = await api.call('/api/v1/no-such-thing');
      expect(response.status).toBe(404);
      expect((await errorOf(response)).code).toBe('RESOURCE_NOT_FOUND');
    });

    it('405 METHOD_NOT_ALLOWED with Allow for a method the path does not have', async () => {
      for (const [method, path, allow] of [
        ['PUT', '/api/v1/auth/login', 'POST'],
        ['DELETE', '/api/v1/keys', 'GET, HEAD, POST'],
        ['POST', '/health', 'GET, HEAD'],
        ['PATCH', '/api/v1/keys/00000000-0000-4000-8000-000000000000/rotate', 'POST'],
      ]) {
        const response = await api.call(path, json(method, {}));
        expect({
          method,
          path,
          status: response.status,
          allow: response.headers.get('allow'),
        }).toEqual({ method, path, status: 405, allow });
        expect((await errorOf(response)).code).toBe('METHOD_NOT_ALLOWED');
      }
      // fetch refuses to send TRACE; node:http does.
      const trace = await new Promise<{ status?: number; allow?: string; body: string }>(
        (resolve, reject) => {
          const request = httpRequest(`${api.url}/api/v1/keys`, { method: 'TRACE' }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode, allow: res.headers.allow, body }),
            );
          });
          request.on('error', reject);
          request.end();
        },
      );
      expect(trace).toMatchObject({ status: 405, allow: 'GET, HEAD, POST' });
      expect((JSON.parse(trace.body) as ErrorBody).error.code).toBe('METHOD_NOT_ALLOWED');
      // A path that does not exist stays a 404, whatever the method.
      expect((await api.call('/api/v1/no-such-thing', json('PUT', {}))).status).toBe(404);
    });

    it('404 RESOURCE_NOT_FOUND thrown by a service', async () => {
      const response = await api.call('/api/v1/probe/missing');
      expect(response.status).toBe(404);
      const error = await errorOf(response);
      expect(error).toMatchObject({
        code: 'RESOURCE_NOT_FOUND',
        message: 'Widget not found',
        details: null,
      });
    });

    it('400 VALIDATION_ERROR with one detail per field, nested fields dotted', async () => {
      const response = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: '', count: 99, tag: { label: 7 } }),
      );
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('VALIDATION_ERROR');
      const fields = (error.details as { field: string; message: string }[]).map((d) => d.field);
      expect(new Set(fields)).toEqual(new Set(['name', 'count', 'tag.label']));
    });

    it('400 VALIDATION_ERROR for unknown fields (mass assignment)', async () => {
      const response = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'a', is_platform_admin: true }),
      );
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.details).toEqual([
        { field: 'is_platform_admin', message: 'property is_platform_admin should not exist' },
      ]);
    });

    it('400 VALIDATION_ERROR for malformed JSON', async () => {
      const response = await api.call('/api/v1/probe/echo', {
        method: 'POST',
        body: '{"name": "a",',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect(error.message).toBe('Malformed JSON body');
    });

    it('400 VALIDATION_ERROR for a JSON body that is not an object', async () => {
      const response = await api.call('/api/v1/probe/echo', json('POST', 'just a string'));
      expect(response.status).toBe(400);
      expect((await errorOf(response)).code).toBe('VALIDATION_ERROR');
    });

    it('415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const response = await api.call('/api/v1/probe/echo', {
          method: 'POST',
          body: 'name=a',
          headers: { 'content-type': type },
        });
        expect(response.status).toBe(415);
        expect((await errorOf(response)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
      }
    });

    it('413 PAYLOAD_TOO_LARGE for a body over 10 MB', async () => {
      const body = JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024) });
      const response = await api.call('/api/v1/probe/echo', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(413);
      expect((await errorOf(response)).code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('accepts a body just under 10 MB (then validates it)', async () => {
      const body = JSON.stringify({ name: 'x'.repeat(9 * 1024 * 1024) });
      const response = await api.call('/api/v1/probe/echo', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect((await errorOf(response)).code).toBe('VALIDATION_ERROR');
    });

    it('400 for more than 50 query parameters, 50 are fine', async () => {
      const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
      const over = await api.call(`/health/live?${params(51)}`);
      expect(over.status).toBe(400);
      expect((await errorOf(over)).code).toBe('VALIDATION_ERROR');
      const fine = await api.call(`/health/live?${params(50)}`);
      expect(fine.status).toBe(200);
    });

    it('414 for a URL over 8 KB', async () => {
      const response = await api.call(`/health/live?q=${'a'.repeat(9000)}`);
      expect(response.status).toBe(414);
      expect((await errorOf(response)).code).toBe('URI_TOO_LONG');
    });

    it('431 for headers over 32 KB and 400 for a malformed URL, in the error format with a request id', async () => {
      const big = await api.call('/health/live', {
        headers: { 'x-padding': 'a'.repeat(40 * 1024) },
      });
      expect(big.status).toBe(431);
      expect((await big.json()) as ErrorBody).toMatchObject({
        error: { code: 'VALIDATION_ERROR' },
      });
      expect(big.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

      const badUrl = await api.call('/api/v1/%zz');
      expect(badUrl.status).toBe(400);
      expect((await errorOf(badUrl)).code).toBe('VALIDATION_ERROR');
    });

    it('400, not 500, for an offset past any list', async () => {
      const response = await api.call('/api/v1/probe/numbers?offset=100000000000000000000');
      expect(response.status).toBe(400);
    });

    it('409 CONFLICT for a unique violation, not a 500', async () => {
      const email = `dup-${randomUUID()}@example.com`;
      const first = await api.call('/api/v1/probe/unique', json('POST', { email }));
      expect(first.status).toBe(201);
      const second = await api.call(
        '/api/v1/probe/unique',
        json('POST', { email: email.toUpperCase() }),
      );
      expect(second.status).toBe(409);
      expect((await errorOf(second)).code).toBe('CONFLICT');
    });

    it('500 INTERNAL_ERROR with no SQL, stack or internals in the body', async () => {
      const response = await api.call('/api/v1/probe/boom');
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).not.toMatch(/table_that_does_not_exist|SELECT|stack|at /);
      const body = JSON.parse(text) as ErrorBody;
      expect(body.error).toEqual({
        code: 'INTERNAL_ERROR',
        message: 'An unexpected error occurred',
        details: null,
        request_id: response.headers.get('x-request-id'),
      });
    });
  });

  describe('envelopes and pagination', () => {
    it('wraps a single resource in data and creates with 201', async () => {
      const response = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'alpha', count: 2 }),
      );
      expect(response.status).toBe(201);
      const body = (await response.json()) as { data: { name: string; count: number } };
      expect(body.data).toMatchObject({ name: 'alpha', count: 2 });
    });

    it('lists with default limit 20 and offset 0', async () => {
      const response = await api.call('/api/v1/probe/numbers');
      const body = (await response.json()) as {
        data: { n: number }[];
        total: number;
        limit: number;
        offset: number;
      };
      expect(response.status).toBe(200);
      expect(body).toMatchObject({ total: 250, limit: 20, offset: 0 });
      expect(body.data).toHaveLength(20);
      expect(body.data[0]).toEqual({ n: 1 });
    });

    it('honours limit 100 and an offset', async () => {
      const response = await api.call('/api/v1/probe/numbers?limit=100&offset=200');
      const body = (await response.json()) as {
        data: { n: number }[];
        limit: number;
        offset: number;
      };
      expect(body.limit).toBe(100);
      expect(body.offset).toBe(200);
      expect(body.data.map((row) => row.n)).toEqual(Array.from({ length: 50 }, (_, i) => 201 + i));
    });

    it.each([
      'limit=101',
      'limit=0',
      'limit=abc',
      'limit=1.5',
      'offset=-1',
      // Number() reads these as 16, 10, 1 and 0; the contract's integers are decimal digits.
      'offset=0x10',
      'limit=1e1',
      'limit=%201',
      'offset=',
    ])('rejects %s with 400', async (query) => {
      const response = await api.call(`/api/v1/probe/numbers?${query}`);
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('VALIDATION_ERROR');
      expect((error.details as { field: string }[])[0]?.field).toBe(query.split('=')[0]);
    });
  });

  describe('idempotency', () => {
    it('replays the stored response for the same key and body', async () => {
      const key = randomUUID();
      const first = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'once' }, { 'idempotency-key': key }),
      );
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const firstBody = (await first.json()) as { data: { invocation: number } };

      const again = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'once' }, { 'idempotency-key': key }),
      );
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(firstBody);
    });

    it('accepts X-Idempotency-Key and treats reordered keys as the same body', async () => {
      const key = randomUUID();
      const first = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'x', count: 1 }, { 'x-idempotency-key': key }),
      );
      const firstBody = await first.json();
      const again = await api.call('/api/v1/probe/echo', {
        method: 'POST',
        body: '{"count":1,"name":"x"}',
        headers: { 'content-type': 'application/json', 'x-idempotency-key': key },
      });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(firstBody);
    });

    it('422 IDEMPOTENCY_KEY_REUSED for the same key with a different body', async () => {
      const key = randomUUID();
      await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'first' }, { 'idempotency-key': key }),
      );
      const response = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'second' }, { 'idempotency-key': key }),
      );
      expect(response.status).toBe(422);
      expect((await errorOf(response)).code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('on a real route too, as its OpenAPI document says (422 on POST /auth/logout)', async () => {
      const key = randomUUID();
      const logout = (token: string) =>
        api.call(
          '/api/v1/auth/logout',
          json('POST', { refresh_token: token }, { 'idempotency-key': key }),
        );
      expect((await logout('not-a-token')).status).toBe(204);
      const reused = await logout('another-token');
      expect(reused.status).toBe(422);
      expect((await errorOf(reused)).code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('409 CONFLICT while the first request is still running, then replays', async () => {
      const key = randomUUID();
      const headers = { 'idempotency-key': key };
      const probe = api.app.get(ProbeController);
      const started = probe.invocations;
      const slow = api.call('/api/v1/probe/slow', json('POST', { delay_ms: 700 }, headers));
      // The handler runs only once the key is claimed.
      await eventually(async () => {
        expect(probe.invocations).toBeGreaterThan(started);
        await Promise.resolve();
      });
      const concurrent = await api.call(
        '/api/v1/probe/slow',
        json('POST', { delay_ms: 700 }, headers),
      );
      expect(concurrent.status).toBe(409);
      expect((await errorOf(concurrent)).code).toBe('CONFLICT');

      const first = await slow;
      expect(first.status).toBe(201);
      const firstBody = await first.json();
      const after = await api.call('/api/v1/probe/slow', json('POST', { delay_ms: 700 }, headers));
      expect(after.headers.get('idempotent-replayed')).toBe('true');
      expect(await after.json()).toEqual(firstBody);
    });

    it('releases the key when the request fails, so a corrected retry runs', async () => {
      const key = randomUUID();
      const bad = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: '' }, { 'idempotency-key': key }),
      );
      expect(bad.status).toBe(400);
      const fixed = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'fixed' }, { 'idempotency-key': key }),
      );
      expect(fixed.status).toBe(201);
      expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    });

    it('400 for an unusable key', async () => {
      const response = await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'a' }, { 'idempotency-key': 'x'.repeat(300) }),
      );
      expect(response.status).toBe(400);
      expect((await errorOf(response)).code).toBe('VALIDATION_ERROR');
    });

    it('stores the record under this run’s Redis prefix for 24 h', async () => {
      const redis = api.app.get<RedisClient>(REDIS);
      const key = randomUUID();
      await api.call(
        '/api/v1/probe/echo',
        json('POST', { name: 'ttl' }, { 'idempotency-key': key }),
      );
      const prefix = redis.options.keyPrefix ?? '';
      expect(prefix).toMatch(/^gh-test-/);
      const keys = await scanKeys(redis, `${prefix}idempotency:*`);
      expect(keys.length).toBeGreaterThan(0);
      const ttls = await Promise.all(keys.map((k) => redis.pttl(k.slice(prefix.length))));
      expect(Math.max(...ttls)).toBeGreaterThan(23 * 3600 * 1000);
    });
  });

  describe('security headers and CORS', () => {
    it('sends helmet headers', async () => {
      const response = await api.call('/health');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    });
  });
});
