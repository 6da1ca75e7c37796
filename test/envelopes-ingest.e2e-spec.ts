import { promisify } from 'node:util';
import { brotliCompressSync, deflateRawSync, deflateSync, gunzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { sentryClient } from './support/sentry-sdk.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

interface ProjectBody {
  id: number;
  public_key: string;
  dsn: string;
  ingest_rate_limit: { window: string; limit: number };
}

interface EnvelopeRow {
  id: string;
  organization_id: string;
  project_id: number;
  event_id: string | null;
  body: Buffer;
  body_bytes: number;
  item_count: number;
  pending: boolean;
}

const MB = 1024 * 1024;
const hex = () => crypto.randomUUID().replaceAll('-', '');
const dashed = (id: string) =>
  `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;

/** A small envelope: header, one event item, with or without `length`, final newline or not. */
function envelope(
  eventId: string,
  { withLength = false, finalNewline = true, header = {} } = {},
): string {
  const event = JSON.stringify({ event_id: eventId, level: 'error', message: 'Something broke' });
  const itemHeader = withLength
    ? { type: 'event', length: Buffer.byteLength(event) }
    : { type: 'event' };
  return (
    `${JSON.stringify({ event_id: eventId, ...header })}\n${JSON.stringify(itemHeader)}\n${event}` +
    (finalNewline ? '\n' : '')
  );
}

describe('Sentry envelope ingestion', () => {
  let api: TestApp;
  let db: DataSource;
  let owner: Account;
  let project: ProjectBody;

  beforeAll(async () => {
    api = await startApp();
    db = api.app.get(DataSource);
    owner = await registerOwner(api, 'sentry');
    project = await newProject(owner);
  });

  afterAll(async () => {
    await api?.close();
  });

  async function newProject(account: Account): Promise<ProjectBody> {
    const response = await api.call('/api/v1/projects', as(account, 'POST', { name: 'App' }));
    expect(response.status).toBe(201);
    return ((await response.json()) as { data: ProjectBody }).data;
  }

  const authOf = (key: string) => ({
    'x-sentry-auth': `Sentry sentry_key=${key}, sentry_version=7, sentry_client=test/1.0`,
  });

  function send(
    body: string | Buffer | undefined,
    headers: Record<string, string> = authOf(project.public_key),
    path = `/api/${project.id}/envelope/`,
  ): Promise<Response> {
    return api.call(path, { method: 'POST', headers, body });
  }

  async function rowsOf(eventId: string): Promise<EnvelopeRow[]> {
    return db.query<EnvelopeRow[]>(
      `SELECT e.*, EXISTS (SELECT 1 FROM envelope_pending p WHERE p.envelope_id = e.id) AS pending
       FROM envelopes e WHERE e.event_id = $1`,
      [dashed(eventId)],
    );
  }

  async function storedBody(eventId: string): Promise<string> {
    const [row] = await rowsOf(eventId);
    if (row === undefined) throw new Error(`no envelope for ${eventId}`);
    return (await promisify(gunzip)(row.body)).toString('utf8');
  }

  it('stores what the real @sentry/node SDK sends to the DSN (captureException, captureMessage)', async () => {
    const client = sentryClient(project.dsn, api.url, {
      release: 'checkout@1.2.3',
      environment: 'e2e',
    });
    const exceptionId = client.captureException(new TypeError('cart is undefined'));
    const messageId = client.captureMessage('payment provider slow', 'warning');
    expect(await client.flush(10_000)).toBe(true);

    const exception = await eventually(async () => {
      const rows = await rowsOf(exceptionId);
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(exception).toMatchObject({
      organization_id: owner.organizationId,
      project_id: project.id,
      pending: true,
    });
    const text = await storedBody(exceptionId);
    expect(Buffer.byteLength(text)).toBe(exception.body_bytes);
    expect(text).toContain('cart is undefined');
    expect(text).toContain('TypeError');
    const message = await storedBody(messageId);
    expect(message).toContain('payment provider slow');
    expect(message).toContain('checkout@1.2.3');
    await client.close();
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
    ['br', brotliCompressSync],
  ] as const)(
    'accepts a %s body and stores it decoded, exactly as sent',
    async (encoding, compress) => {
      const eventId = hex();
      const text = envelope(eventId);
      const response = await send(compress(Buffer.from(text)), {
        ...authOf(project.public_key),
        'content-encoding': encoding,
        'content-type': 'application/x-sentry-envelope',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: eventId });
      expect(await storedBody(eventId)).toBe(text);
      const [row] = await rowsOf(eventId);
      expect(row).toMatchObject({ item_count: 1, body_bytes: Buffer.byteLength(text) });
    },
  );

  it('accepts any or no Content-Type, a chunked body, and the /api/v1 alias with or without the trailing slash', async () => {
    for (const [contentType, path] of [
      [undefined, `/api/${project.id}/envelope/`],
      ['text/plain;charset=UTF-8', `/api/${project.id}/envelope`],
      ['application/json', `/api/v1/${project.id}/envelope/`],
      ['application/octet-stream', `/api/v1/${project.id}/envelope`],
    ] as const) {
      const eventId = hex();
      const headers: Record<string, string> = authOf(project.public_key);
      if (contentType !== undefined) headers['content-type'] = contentType;
      const response = await send(envelope(eventId), headers, path);
      expect([contentType, path, response.status]).toEqual([contentType, path, 200]);
      expect(await rowsOf(eventId)).toHaveLength(1);
    }
    const eventId = hex();
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = Buffer.from(envelope(eventId));
        controller.enqueue(bytes.subarray(0, 10));
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    });
    const response = await api.call(`/api/${project.id}/envelope/`, {
      method: 'POST',
      headers: authOf(project.public_key),
      body: chunked,
      duplex: 'half',
    });
    expect(response.status).toBe(200);
    expect(await storedBody(eventId)).toBe(envelope(eventId));
  });

  it('authenticates by the sentry_key query parameter and by the DSN in the envelope header', async () => {
    const byQuery = hex();
    let response = await send(
      envelope(byQuery),
      {},
      `/api/${project.id}/envelope/?sentry_key=${project.public_key}&sentry_version=7`,
    );
    expect(response.status).toBe(200);
    expect(await rowsOf(byQuery)).toHaveLength(1);

    const byDsn = hex();
    response = await send(envelope(byDsn, { header: { dsn: project.dsn } }), {});
    expect(response.status).toBe(200);
    expect(await rowsOf(byDsn)).toHaveLength(1);
  });

  it('refuses a missing or wrong key (401), an unknown project (404) and another organization’s key (401)', async () => {
    const other = await registerOwner(api, 'sentry-other');
    const theirs = await newProject(other);
    const cases: [string, Record<string, string>, string, number][] = [
      ['no key', {}, `/api/${project.id}/envelope/`, 401],
      ['wrong key', authOf('0'.repeat(32)), `/api/${project.id}/envelope/`, 401],
      ['their key on my project', authOf(theirs.public_key), `/api/${project.id}/envelope/`, 401],
      ['my key on their project', authOf(project.public_key), `/api/${theirs.id}/envelope/`, 401],
      ['wrong query key', {}, `/api/${project.id}/envelope/?sentry_key=abc`, 401],
      ['unknown project', authOf(project.public_key), '/api/2147483000/envelope/', 404],
    ];
    for (const [what, headers, path, status] of cases) {
      const eventId = hex();
      const response = await send(envelope(eventId), headers, path);
      const body = (await response.json()) as { error: { code: string } };
      expect([what, response.status, body.error.code]).toEqual([
        what,
        status,
        status === 404 ? 'RESOURCE_NOT_FOUND' : 'AUTHENTICATION_FAILED',
      ]);
      expect(await rowsOf(eventId)).toHaveLength(0);
    }
    // A DSN naming another project, or with another key, in the envelope header.
    const wrongDsn = theirs.dsn;
    const response = await send(envelope(hex(), { header: { dsn: wrongDsn } }), {});
    expect(response.status).toBe(401);
  });

  it('accepts items with and without length, with and without a final newline, and unknown item types', async () => {
    for (const withLength of [true, false]) {
      for (const finalNewline of [true, false]) {
        const eventId = hex();
        const text = envelope(eventId, { withLength, finalNewline });
        const response = await send(text);
        expect([withLength, finalNewline, response.status]).toEqual([
          withLength,
          finalNewline,
          200,
        ]);
        expect(await storedBody(eventId)).toBe(text);
      }
    }
    const eventId = hex();
    const text = `${envelope(eventId)}{"type":"something_new","length":3}\nabc\n{"type":"client_report"}\n{"discarded_events":[]}\n`;
    const response = await send(text);
    expect(response.status).toBe(200);
    const [row] = await rowsOf(eventId);
    expect(row?.item_count).toBe(3);
    expect(await storedBody(eventId)).toBe(text);
  });

  it('answers with the envelope id when the envelope has no event id', async () => {
    const response = await send('{}\n{"type":"session"}\n{"sid":"x"}\n');
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: string };
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const rows = await db.query<{ event_id: string | null }[]>(
      'SELECT event_id FROM envelopes WHERE id = $1',
      [dashed(id)],
    );
    expect(rows).toEqual([{ event_id: null }]);
  });

  it('refuses malformed envelopes with 400 and a reason', async () => {
    for (const [body, reason] of [
      ['', 'empty envelope'],
      ['not json\n', 'envelope header is not valid JSON'],
      ['{}\n{"type":"event","length":500}\n{}\n', 'no newline'],
      ['{}\n{"type":"event"}\n{not json}\n', 'event item is not valid JSON'],
    ] as const) {
      const response = await send(body);
      const error = (
        (await response.json()) as { error: { code: string; details: { reason: string } } }
      ).error;
      expect([body, response.status, error.code]).toEqual([body, 400, 'VALIDATION_ERROR']);
      expect(typeof error.details.reason).toBe('string');
      if (reason !== 'no newline') expect(error.details.reason).toBe(reason);
    }
    const response = await send(gzipSync('x').subarray(0, 8), {
      ...authOf(project.public_key),
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(400);
    const unknown = await send(envelope(hex()), {
      ...authOf(project.public_key),
      'content-encoding': 'zstd-ish',
    });
    expect(unknown.status).toBe(415);
  });

  it('stores a valid 50 MB envelope sent as a small gzip body (an attachment), exactly as sent', async () => {
    const eventId = hex();
    const attachment = Buffer.alloc(50 * MB, 0x61);
    const text = Buffer.concat([
      Buffer.from(
        `{"event_id":"${eventId}"}\n{"type":"attachment","length":${attachment.length}}\n`,
      ),
      attachment,
      Buffer.from('\n'),
    ]);
    const response = await send(gzipSync(text), {
      ...authOf(project.public_key),
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    const [row] = await rowsOf(eventId);
    expect(row).toMatchObject({ item_count: 1, body_bytes: text.length });
    expect(row?.body.length).toBeLessThan(MB);
    expect((await promisify(gunzip)(row?.body ?? Buffer.alloc(0))).equals(text)).toBe(true);
  }, 30_000);

  it('takes an uncompressed body over the API’s 10 MB JSON limit (up to 20 MB as sent)', async () => {
    const eventId = hex();
    const attachment = Buffer.alloc(15 * MB, 0x62);
    const text = Buffer.concat([
      Buffer.from(
        `{"event_id":"${eventId}"}\n{"type":"attachment","length":${attachment.length}}\n`,
      ),
      attachment,
    ]);
    const response = await send(text);
    expect(response.status).toBe(200);
    expect(await rowsOf(eventId)).toHaveLength(1);
  }, 30_000);

  it('refuses oversized bodies and items with 413 and stays up', async () => {
    // An event item over 1 MB, and a body over 20 MB as sent.
    const bigEvent = `{}\n{"type":"event"}\n{"message":"${'a'.repeat(MB + 10)}"}\n`;
    let response = await send(bigEvent);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    // 21 MB as sent (an attachment of that length).
    const attachment = Buffer.alloc(21 * MB, 0x61);
    response = await send(
      Buffer.concat([
        Buffer.from(`{}\n{"type":"attachment","length":${attachment.length}}\n`),
        attachment,
      ]),
    );
    expect(response.status).toBe(413);
    // A decompression bomb: 200 MB of zeros in a small gzip body.
    const bomb = gzipSync(Buffer.alloc(200 * MB));
    response = await send(bomb, { ...authOf(project.public_key), 'content-encoding': 'gzip' });
    expect(response.status).toBe(413);
    const alive = await api.call('/health');
    expect(alive.status).toBe(200);
    const eventId = hex();
    expect((await send(envelope(eventId))).status).toBe(200);
  }, 60_000);

  it('enforces the project’s ingest_rate_limit with 429, Retry-After and X-Sentry-Rate-Limits', async () => {
    const limited = await newProject(owner);
    const patched = await api.call(
      `/api/v1/projects/${limited.id}`,
      as(owner, 'PATCH', { ingest_rate_limit: { window: 'minute', limit: 2 } }),
    );
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { data: ProjectBody }).data.ingest_rate_limit).toEqual({
      window: 'minute',
      limit: 2,
    });
    const path = `/api/${limited.id}/envelope/`;
    const auth = authOf(limited.public_key);
    expect((await send(envelope(hex()), auth, path)).status).toBe(200);
    expect((await send(envelope(hex()), auth, path)).status).toBe(200);
    const refusedId = hex();
    const refused = await send(envelope(refusedId), auth, path);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-sentry-rate-limits')).toBe(
      `${retryAfter}::project:project_quota`,
    );
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'RATE_LIMIT_EXCEEDED',
    );
    expect(await rowsOf(refusedId)).toHaveLength(0);
    // Other projects keep their own limit.
    expect((await send(envelope(hex()))).status).toBe(200);

    // null restores the default.
    const reset = await api.call(
      `/api/v1/projects/${limited.id}`,
      as(owner, 'PATCH', { ingest_rate_limit: null }),
    );
    expect(((await reset.json()) as { data: ProjectBody }).data.ingest_rate_limit).toEqual({
      window: 'minute',
      limit: 1000,
    });
    expect((await send(envelope(hex()), auth, path)).status).toBe(200);
  });

  it('validates ingest_rate_limit on PATCH, and refuses it without projects:write', async () => {
    for (const bad of [
      { window: 'week', limit: 10 },
      { window: 'minute', limit: 0 },
      { window: 'minute', limit: 1.5 },
      { window: 'minute' },
      { window: 'minute', limit: 10, algorithm: 'token_bucket' },
      'fast',
    ]) {
      const response = await api.call(
        `/api/v1/projects/${project.id}`,
        as(owner, 'PATCH', { ingest_rate_limit: bad }),
      );
      expect([bad, response.status]).toEqual([bad, 400]);
    }
    const viewer = await addMember(api, owner, 'viewer');
    const response = await api.call(
      `/api/v1/projects/${project.id}`,
      as(viewer, 'PATCH', { ingest_rate_limit: { window: 'second', limit: 1 } }),
    );
    expect(response.status).toBe(403);
    const after = await api.call(`/api/v1/projects/${project.id}`, as(owner, 'GET'));
    expect(((await after.json()) as { data: ProjectBody }).data.ingest_rate_limit).toEqual({
      window: 'minute',
      limit: 1000,
    });
  });

  it('answers a browser SDK’s CORS preflight from any origin, as Relay does', async () => {
    const preflight = await fetch(`${api.url}/api/${project.id}/envelope/?sentry_key=k`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-sentry-auth',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-sentry-auth');
    const response = await send(envelope(hex()), {
      ...authOf(project.public_key),
      origin: 'https://shop.example',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-expose-headers')).toContain('x-sentry-rate-limits');
  });

  it('another api process drops its cached project within a second of a delete or a limit change', async () => {
    const other = await startApp();
    try {
      const moved = await newProject(owner);
      const otherSend = (id: number, key: string) =>
        other.call(`/api/${id}/envelope/`, {
          method: 'POST',
          headers: authOf(key),
          body: envelope(hex()),
        });
      // The other process caches the project (and its default limit) on first use.
      expect((await otherSend(moved.id, moved.public_key)).status).toBe(200);
      const patched = await api.call(
        `/api/v1/projects/${moved.id}`,
        as(owner, 'PATCH', { ingest_rate_limit: { window: 'hour', limit: 1 } }),
      );
      expect(patched.status).toBe(200);
      // A process still on the default (1,000 a minute) would admit every one of these; once
      // the change is heard, the hour's one envelope is admitted and the next refused.
      await eventually(async () => {
        expect((await otherSend(moved.id, moved.public_key)).status).toBe(429);
      }, 1_000);
      expect((await api.call(`/api/v1/projects/${moved.id}`, as(owner, 'DELETE'))).status).toBe(
        204,
      );
      await eventually(async () => {
        expect((await otherSend(moved.id, moved.public_key)).status).toBe(404);
      }, 1_000);
    } finally {
      await other.close();
    }
  });

  it('stops accepting a deleted project’s envelopes at once', async () => {
    const doomed = await newProject(owner);
    const path = `/api/${doomed.id}/envelope/`;
    expect((await send(envelope(hex()), authOf(doomed.public_key), path)).status).toBe(200);
    const deleted = await api.call(`/api/v1/projects/${doomed.id}`, as(owner, 'DELETE'));
    expect(deleted.status).toBe(204);
    expect((await send(envelope(hex()), authOf(doomed.public_key), path)).status).toBe(404);
  });
});
