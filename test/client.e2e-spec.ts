import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type GatehouseClient,
  type GatehouseClientOptions,
  createGatehouseClient,
} from '../clients/typescript/src/gatehouse-client.js';
import { PASSWORD, uniqueName } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

/** What the client put on the wire: one entry per request actually sent. */
interface Sent {
  method: string;
  status: number;
  idempotencyKey: string | null;
  startedAt: number;
  answeredAt: number;
  retryAfter: string | null;
}

type Fetch = NonNullable<GatehouseClientOptions['fetch']>;

/** A fetch that records every request the client sends through `send` (retries included). */
function recordingFetch(send: Fetch): { sent: Sent[]; fetch: Fetch } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (request) => {
      const startedAt = Date.now();
      const idempotencyKey = request.headers.get('idempotency-key');
      const response = await send(request);
      sent.push({
        method: request.method,
        status: response.status,
        idempotencyKey,
        startedAt,
        answeredAt: Date.now(),
        retryAfter: response.headers.get('retry-after'),
      });
      return response;
    },
  };
}

describe('TypeScript client (@gatehouse/client) against the real server', () => {
  let api: TestApp;
  let accessToken: string;

  beforeAll(async () => {
    api = await startApp();
    const anonymous = gatehouse();
    const username = uniqueName('client');
    const registered = await anonymous.POST('/api/v1/auth/register', {
      body: {
        username,
        email: `${username}@example.com`,
        password: PASSWORD,
        organization_name: `${username} inc`,
      },
    });
    expect(registered.response.status).toBe(201);
    const loggedIn = await anonymous.POST('/api/v1/auth/login', {
      body: { login: username, password: PASSWORD },
    });
    expect(loggedIn.error).toBeUndefined();
    accessToken = loggedIn.data?.access_token ?? '';
  });

  afterAll(async () => {
    await api.close();
  });

  /** A client of the test app; its responses are checked against the document (api.fetch). */
  function gatehouse(options: Omit<GatehouseClientOptions, 'baseUrl'> = {}): GatehouseClient {
    return createGatehouseClient({ baseUrl: api.url, fetch: api.fetch, ...options });
  }

  /** A key made through the client with a user's token, with a window of its own if given one. */
  async function createKey(window?: 'second' | 'minute'): Promise<{ id: string; secret: string }> {
    const owner = gatehouse({ accessToken: () => accessToken });
    const { data, error, response } = await owner.POST('/api/v1/keys', {
      body: {
        name: 'client spec',
        environment: 'test',
        permissions: ['projects:read', 'projects:write'],
        ...(window === undefined ? {} : { rate_limits: [{ window, limit: 1 }] }),
      },
    });
    expect({ status: response.status, error }).toEqual({ status: 201, error: undefined });
    return { id: data?.data.id ?? '', secret: data?.data.key ?? '' };
  }

  it('registers, logs in, creates a key and calls the API with it', async () => {
    const key = await createKey();
    const withKey = gatehouse({ apiKey: key.secret });

    const me = await withKey.GET('/api/v1/auth/me');
    expect(me.response.status).toBe(200);
    expect(me.data?.data).toMatchObject({ type: 'api_key', id: key.id });

    const created = await withKey.POST('/api/v1/projects', { body: { name: 'from the client' } });
    expect(created.response.status).toBe(201);
    const listed = await withKey.GET('/api/v1/projects', { params: { query: { limit: 100 } } });
    expect(listed.data?.data.map((project) => project.id)).toContain(created.data?.data.id);
  });

  it('answers errors as the typed error body', async () => {
    const wrongKey = gatehouse({ apiKey: 'sk_test_not-a-key' });
    const { data, error, response } = await wrongKey.GET('/api/v1/projects');
    expect(response.status).toBe(401);
    expect(data).toBeUndefined();
    expect(error?.error.code).toBe('API_KEY_INVALID');
  });

  /**
   * Calls through a client whose key allows one request a second until one is refused, and
   * returns the refused request and the retry after it (a slow machine can let a second call
   * through the one-second window).
   */
  async function firstRetry(
    call: (client: GatehouseClient) => Promise<{ response: Response }>,
  ): Promise<{ sent: Sent[]; refused: Sent; retried: Sent }> {
    const key = await createKey('second');
    const { sent, fetch } = recordingFetch(api.fetch);
    const client = gatehouse({ apiKey: key.secret, fetch });
    return eventually(async () => {
      expect((await call(client)).response.status).toBeLessThan(300);
      const refused = sent.findIndex((request) => request.status === 429);
      expect(refused).toBeGreaterThan(0);
      return { sent, refused: sent[refused], retried: sent[refused + 1] };
    }, 20_000);
  }

  it('sends a GET again after a 429, once its Retry-After has passed', async () => {
    const { refused, retried } = await firstRetry((client) => client.GET('/api/v1/projects'));

    expect(retried.status).toBe(200);
    const waitMs = Number(refused.retryAfter) * 1000;
    expect(waitMs).toBeGreaterThan(0);
    expect(retried.startedAt).toBeGreaterThanOrEqual(refused.answeredAt + waitMs);
  });

  it('retries a POST under the same Idempotency-Key, so it is run once', async () => {
    const { sent, refused, retried } = await firstRetry((client) =>
      client.POST('/api/v1/projects', { body: { name: 'retried' } }),
    );

    expect(retried.status).toBe(201);
    expect(refused.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(retried.idempotencyKey).toBe(refused.idempotencyKey);
    // Every other request had a key of its own.
    const keys = sent.filter((request) => request !== retried).map((r) => r.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    // One project per call: the refused attempt and its retry made one.
    const owner = gatehouse({ accessToken: () => accessToken });
    const { data } = await owner.GET('/api/v1/projects', { params: { query: { limit: 100 } } });
    const retriedProjects = data?.data.filter((project) => project.name === 'retried');
    expect(retriedProjects).toHaveLength(sent.length - 1);
  });

  it('does not retry a POST without an Idempotency-Key, nor wait longer than allowed', async () => {
    const key = await createKey('minute');
    const { sent, fetch } = recordingFetch(api.fetch);
    const noKeys = gatehouse({
      apiKey: key.secret,
      fetch,
      idempotencyKeys: false,
    });
    expect((await noKeys.POST('/api/v1/projects', { body: { name: 'a' } })).response.status).toBe(
      201,
    );
    const refused = await noKeys.POST('/api/v1/projects', { body: { name: 'b' } });
    expect(refused.error?.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(sent.map((request) => [request.status, request.idempotencyKey])).toEqual([
      [201, null],
      [429, null],
    ]);

    const impatient = gatehouse({
      apiKey: key.secret,
      retry: { maxDelayMs: 10 },
    });
    const { response } = await impatient.GET('/api/v1/projects');
    expect(response.status).toBe(429);
  });

  it("replays a POST sent again with the caller's own Idempotency-Key", async () => {
    const key = await createKey();
    const client = gatehouse({ apiKey: key.secret });
    const idempotencyKey = randomUUID();
    const send = () =>
      client.POST('/api/v1/projects', {
        body: { name: 'replayed' },
        headers: { 'Idempotency-Key': idempotencyKey },
      });

    const first = await send();
    const again = await send();

    expect([first.response.status, again.response.status]).toEqual([201, 201]);
    expect(first.response.headers.get('idempotent-replayed')).toBeNull();
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.data?.data.id).toBe(first.data?.data.id);
  });
});
