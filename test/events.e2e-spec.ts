import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { EventsIngestModule } from '../src/modules/events/events-ingest.module.js';
import { EventsRetention } from '../src/modules/events/events-retention.js';
import { eventEnvelope, storeEnvelope } from './support/envelopes.js';
import type { EventBody, EventDetail, IssueBody } from './support/events-api.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type Page, expectError, expectStatus } from './support/tenancy.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

const DAY_MS = 86_400_000;

const exception = (value: string, lineno: number) => ({
  exception: {
    values: [
      {
        type: 'ZeroDivisionError',
        value,
        stacktrace: {
          frames: [
            { module: 'app.billing', function: 'charge', in_app: true, lineno },
            { module: 'decimal', function: 'divide', in_app: false },
          ],
        },
      },
    ],
  },
});

describe('Sentry events: parsed by the worker, read through the API', () => {
  let api: TestApp;
  let owner: Account;
  let stranger: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    api = await startApp({ imports: [EventsIngestModule] });
    dataSource = api.app.get(DataSource);
    [owner, stranger] = await Promise.all([registerOwner(api), registerOwner(api, 'stranger')]);
  });

  afterAll(async () => {
    await api.close();
  });

  async function newProject(by: Account = owner): Promise<number> {
    const response = await api.call('/api/v1/projects', as(by, 'POST', { name: 'Errors' }));
    return (await expectStatus<{ data: { id: number } }>(response, 201)).data.id;
  }

  const store = (projectId: number, body: Buffer | string, extra = {}) =>
    storeEnvelope(dataSource, { organizationId: owner.organizationId, projectId, body, ...extra });

  async function events(path: string, by: Account = owner): Promise<Page<EventBody>> {
    return expectStatus<Page<EventBody>>(await api.call(path, as(by, 'GET')), 200);
  }

  async function eventsOnceThere(projectId: number, count: number): Promise<EventBody[]> {
    return eventually(async () => {
      const page = await events(`/api/v1/projects/${projectId}/events?limit=100`);
      expect(page.total).toBe(count);
      return page.data;
    });
  }

  it('parses errors and messages into events grouped into issues, within a second', async () => {
    const projectId = await newProject();
    const started = Date.now();
    const header = {
      event_id: '9ec79c33ec9942ab8353589fcb2e04dc',
      sent_at: new Date().toISOString(),
    };
    await store(
      projectId,
      eventEnvelope(
        {
          ...exception('division by zero', 10),
          level: 'error',
          release: 'web@1.0',
          environment: 'production',
          platform: 'python',
          timestamp: 1764504000.25,
          tags: [['region', 'eu']],
          user: { id: '42' },
        },
        header,
      ),
      { eventId: '9ec79c33-ec99-42ab-8353-589fcb2e04dc' },
    );
    await store(projectId, eventEnvelope({ ...exception('other', 99), level: 'fatal' }));
    const attachment = 'binary\u0000bytes';
    const message = JSON.stringify({
      logentry: { message: 'user %s failed', formatted: 'user 42 failed' },
      level: 'warning',
    });
    await store(
      projectId,
      [
        '{}',
        JSON.stringify({ type: 'event' }),
        message,
        JSON.stringify({ type: 'transaction' }),
        JSON.stringify({ type: 'transaction', spans: [] }),
        JSON.stringify({ type: 'attachment', length: attachment.length, filename: 'a.bin' }),
        attachment,
        JSON.stringify({ type: 'mystery' }),
        'not json',
      ].join('\n'),
    );

    const list = await eventsOnceThere(projectId, 3);
    expect(Date.now() - started).toBeLessThan(5_000);
    const first = list.find((event) => event.id === '9ec79c33-ec99-42ab-8353-589fcb2e04dc');
    expect(first).toMatchObject({
      level: 'error',
      message: null,
      exception_type: 'ZeroDivisionError',
      exception_value: 'division by zero',
      release: 'web@1.0',
      environment: 'production',
      platform: 'python',
      timestamp: '2025-11-30T12:00:00.250Z',
      tags: { region: 'eu' },
      user: { id: '42' },
      fingerprint: ['ZeroDivisionError', 'app.billing:charge'],
    });
    const logged = list.find((event) => event.level === 'warning');
    expect(logged).toMatchObject({ message: 'user 42 failed', fingerprint: ['user %s failed'] });

    const issues = await expectStatus<Page<IssueBody>>(
      await api.call(`/api/v1/projects/${projectId}/issues`, as(owner, 'GET')),
      200,
    );
    expect(issues.total).toBe(2);
    const byTitle = Object.fromEntries(issues.data.map((issue) => [issue.title, issue]));
    // Both errors came in one step: either may have opened the issue.
    const zero = issues.data.find((issue) => issue.title.startsWith('ZeroDivisionError: '));
    expect(zero).toMatchObject({
      count: 2,
      level: 'fatal',
      fingerprint: ['ZeroDivisionError', 'app.billing:charge'],
    });
    expect(byTitle['user 42 failed']).toMatchObject({ count: 1, level: 'warning' });
    expect(issues.data[0]?.last_seen >= (issues.data[1]?.last_seen ?? '')).toBe(true);

    const detail = await expectStatus<{ data: EventDetail }>(
      await api.call(`/api/v1/events/${logged?.id ?? ''}`, as(owner, 'GET')),
      200,
    );
    expect(detail.data.id).toBe(logged?.id);
    expect(detail.data.items.map((item) => [item.type, item.encoding])).toEqual([
      ['event', 'json'],
      ['transaction', 'json'],
      ['attachment', 'omitted'],
      ['mystery', 'base64'],
    ]);
    expect(detail.data.items[0]?.payload).toMatchObject({ level: 'warning' });
    expect(detail.data.items[2]).toMatchObject({ length: attachment.length });
    expect(detail.data.items[3]?.payload).toBe(Buffer.from('not json').toString('base64'));
    const firstDetail = await expectStatus<{ data: EventDetail }>(
      await api.call(`/api/v1/events/${first?.id ?? ''}`, as(owner, 'GET')),
      200,
    );
    expect(firstDetail.data.envelope_headers).toEqual(header);
  });

  it('filters by level, release, environment, time and a literal, case-insensitive q', async () => {
    const projectId = await newProject();
    const before = new Date().toISOString();
    await store(
      projectId,
      eventEnvelope({ message: 'Disk 100% full', level: 'error', release: 'r1' }),
    );
    await store(
      projectId,
      eventEnvelope({ message: 'disk 10 full', level: 'info', environment: 'staging' }),
    );
    await store(projectId, eventEnvelope({ message: 'under_score', level: 'debug' }));
    await eventsOnceThere(projectId, 3);
    const base = `/api/v1/projects/${projectId}/events`;
    const messages = async (query: string) =>
      (await events(`${base}?${query}`)).data.map((event) => event.message).sort();
    expect(await messages('level=info')).toEqual(['disk 10 full']);
    expect(await messages('release=r1')).toEqual(['Disk 100% full']);
    expect(await messages('environment=staging')).toEqual(['disk 10 full']);
    expect(await messages('q=DISK')).toEqual(['Disk 100% full', 'disk 10 full']);
    expect(await messages('q=100%25')).toEqual(['Disk 100% full']);
    expect(await messages('q=10%25')).toEqual([]);
    expect(await messages('q=disk_1')).toEqual([]);
    expect(await messages(`start_time=${before}&q=under_`)).toEqual(['under_score']);
    expect(await messages(`end_time=${before}`)).toEqual([]);
    const page = await events(`${base}?limit=1&offset=1`);
    expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(page.data).toHaveLength(1);
    const orgWide = await events(`/api/v1/events?q=under_score&limit=100`);
    expect(orgWide.data.map((event) => event.project_id)).toContain(projectId);
  });

  it('400 for bad filters and ids', async () => {
    for (const query of [
      'level=loud',
      'start_time=yesterday',
      'end_time=2026-02-30',
      'limit=500',
      'q=a%00b',
      'q=',
    ]) {
      await expectError(
        await api.call(`/api/v1/events?${query}`, as(owner, 'GET')),
        400,
        'VALIDATION_ERROR',
      );
    }
    expect((await api.call('/api/v1/events/not-a-uuid', as(owner, 'GET'))).status).toBe(400);
    expect((await api.call('/api/v1/projects/abc/issues', as(owner, 'GET'))).status).toBe(400);
  });

  it('hostile filter values are 400s in the contract format, valid extremes are 200s', async () => {
    // Its own account: these many requests would spend the owner's rate limit.
    const tester = await registerOwner(api, 'hostile');
    const projectId = await newProject(tester);
    // Bad levels and times, arrays and objects, empty and oversized text, NULs, text that is
    // not percent-encoded UTF-8 (a lone surrogate's bytes, a bare %), bad paging, unknown keys.
    const long = (n: number) => 'x'.repeat(n);
    const refused = [
      'level=ERROR',
      'level=',
      'level=error&level=info',
      'level[]=error',
      'release=',
      `release=${long(257)}`,
      'release=a&release=b',
      'release=a%00b',
      `environment=${long(257)}`,
      'environment=%ED%A0%80',
      'environment[x]=1',
      'start_time=0000-01-01T00:00:00Z',
      'start_time=10000-01-01T00:00:00Z',
      'start_time=0001-01-01T00:00:00%2B23:59',
      'end_time=9999-12-31T23:59:59-00:01',
      'end_time=2026-01-01T24:00:00Z',
      'start_time=2026-01-01T00:00:00.0000000001Z',
      'start_time=1767225600',
      'start_time=2026-01-01T00:00:00Z&start_time=2026-01-02T00:00:00Z',
      'end_time=',
      'q=%00',
      'q=%ED%A0%80',
      'q=%ED%B0%80x',
      'q=%F0%9F',
      'q=%FF',
      'q=100%',
      'q=a%ZZ',
      '%FF=a',
      `q=${long(257)}`,
      'q=a&q=b',
      'limit=0',
      'limit=-1',
      'limit=1e2',
      'limit=99999999999999999999999',
      'offset=-1',
      'offset=1.5',
      'offset=1000000001',
      'offset=0x10',
      'unknown=1',
    ];
    for (const [i, query] of refused.entries()) {
      // Both routes take the same query; the project's is asked every fifth case.
      const base = i % 5 === 0 ? `/api/v1/projects/${projectId}/events` : '/api/v1/events';
      const response = await api.call(`${base}?${query}`, as(tester, 'GET'));
      expect([query, response.status]).toEqual([query, 400]);
      await expectError(response, 400, 'VALIDATION_ERROR');
    }
    const accepted = [
      'start_time=0001-01-01T00:00:00Z&end_time=9999-12-31T23:59:59.999999999Z',
      'start_time=9999-12-31T23:59:59.999999999%2B23:59',
      'end_time=0001-01-01',
      'start_time=2026-02-01T00:00:00Z&end_time=2026-01-01T00:00:00Z',
      `release=${long(256)}&environment=${long(256)}&q=${long(256)}`,
      'q=%25_%5C%27%22',
      'q=%F0%9F%92%A5',
      'q=%EF%BF%BD',
      'level=fatal&limit=100&offset=1000000000',
    ];
    for (const query of accepted) {
      const response = await api.call(
        `/api/v1/projects/${projectId}/events?${query}`,
        as(tester, 'GET'),
      );
      expect([query, response.status]).toEqual([query, 200]);
    }
    const surrogate = await api.call('/api/v1/events?q=%ED%A0%80', as(tester, 'GET'));
    expect((await expectError(surrogate, 400, 'VALIDATION_ERROR')).details).toEqual([
      { field: 'q', message: 'q must be percent-encoded UTF-8' },
    ]);
  });

  it("another organization's project and event are 404; no scope 403; no credential 401", async () => {
    const projectId = await newProject();
    await store(projectId, eventEnvelope({ message: 'private' }));
    const [event] = await eventsOnceThere(projectId, 1);
    for (const path of [
      `/api/v1/projects/${projectId}/events`,
      `/api/v1/projects/${projectId}/issues`,
      `/api/v1/events/${event?.id ?? ''}`,
    ]) {
      await expectError(await api.call(path, as(stranger, 'GET')), 404, 'RESOURCE_NOT_FOUND');
      expect((await api.call(path)).status).toBe(401);
    }
    expect((await events('/api/v1/events?q=private', stranger)).total).toBe(0);

    const created = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'narrow', environment: 'live', permissions: ['projects:read'] }),
    );
    const { key } = (await expectStatus<{ data: { key: string } }>(created, 201)).data;
    await expectError(
      await api.call('/api/v1/events', { headers: { 'x-api-key': key } }),
      403,
      'PERMISSION_DENIED',
    );
    const reader = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', { name: 'reader', environment: 'live', permissions: ['events:read'] }),
    );
    const readerKey = (await expectStatus<{ data: { key: string } }>(reader, 201)).data.key;
    const page = await expectStatus<Page<EventBody>>(
      await api.call(`/api/v1/projects/${projectId}/events`, {
        headers: { 'x-api-key': readerKey },
      }),
      200,
    );
    expect(page.total).toBe(1);
  });

  it('drops malformed stored envelopes and stores NULs and lone surrogates replaced', async () => {
    const projectId = await newProject();
    await store(projectId, Buffer.from('{"event_id":12}\n'));
    await storeEnvelope(dataSource, {
      organizationId: owner.organizationId,
      projectId,
      body: 'ignored',
    }).then((id) =>
      dataSource.query("UPDATE envelopes SET body = '\\x00ff'::bytea WHERE id = $1", [id]),
    );
    await store(projectId, `{}\n{"type":"event"}\n{"message": "half`);
    await store(
      projectId,
      eventEnvelope({
        message: 'nul \u0000 and \uD800 lone',
        tags: { 'k\u0000': 'v\uDC00' },
        user: { name: '\u0000' },
        fingerprint: ['\u0000'],
      }),
    );
    const [event] = await eventsOnceThere(projectId, 1);
    expect(event).toMatchObject({
      message: 'nul \uFFFD and \uFFFD lone',
      tags: { 'k\uFFFD': 'v\uFFFD' },
      user: { name: '\uFFFD' },
      fingerprint: ['\uFFFD'],
    });
    await eventually(async () => {
      const [row] = await dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM envelope_pending p JOIN envelopes e ON e.id = p.envelope_id
         WHERE e.project_id = $1`,
        [projectId],
      );
      expect(Number(row?.n)).toBe(0);
    });
  });

  it('an envelope whose events Postgres refuses is set aside, the others go on', async () => {
    const projectId = await newProject();
    await dataSource.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message = 'poison' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END IF;
        RETURN NEW;
      END $$`);
    await dataSource.query(
      'CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poison()',
    );
    try {
      const poison = await store(projectId, eventEnvelope({ message: 'poison' }));
      await store(projectId, eventEnvelope({ message: 'fine' }));
      const [event] = await eventsOnceThere(projectId, 1);
      expect(event?.message).toBe('fine');
      await eventually(async () => {
        const rows = await dataSource.query<unknown[]>(
          'SELECT 1 FROM envelope_pending WHERE envelope_id = $1',
          [poison],
        );
        expect(rows).toHaveLength(0);
      });
      const kept = await dataSource.query<unknown[]>('SELECT 1 FROM envelopes WHERE id = $1', [
        poison,
      ]);
      expect(kept).toHaveLength(1);
    } finally {
      await dataSource.query('DROP TRIGGER refuse_poison ON events');
      await dataSource.query('DROP FUNCTION refuse_poison()');
    }
  });

  it('envelope.received: an outbox event at most once a minute per issue', async () => {
    const projectId = await newProject();
    const notified = async () =>
      dataSource.query<
        { payload: { event_id: string; issue: { title: string; is_new: boolean } } }[]
      >(
        `SELECT payload FROM outbox_events WHERE type = 'envelope.received'
           AND (payload->>'project_id')::int = $1 ORDER BY created_at`,
        [projectId],
      );
    await store(projectId, eventEnvelope({ message: 'a' }));
    await store(projectId, eventEnvelope({ message: 'b' }));
    await eventsOnceThere(projectId, 2);
    const first = await notified();
    expect(first.map((row) => row.payload.issue.title).sort()).toEqual(['a', 'b']);
    expect(first.every((row) => row.payload.issue.is_new)).toBe(true);

    await store(projectId, eventEnvelope({ message: 'a' }));
    await eventsOnceThere(projectId, 3);
    expect(await notified()).toHaveLength(2);

    await dataSource.query(
      `UPDATE event_issues SET last_notified_at = now() - interval '61 seconds'
       WHERE project_id = $1`,
      [projectId],
    );
    await store(projectId, eventEnvelope({ message: 'a' }));
    const [latest] = (await eventsOnceThere(projectId, 4)).filter((event) => event.message === 'a');
    const after = await notified();
    expect(after).toHaveLength(3);
    expect(after[2]?.payload).toMatchObject({
      event_id: latest?.id,
      issue: { title: 'a', is_new: false },
    });
  });

  it('retention drops whole old months, old rows of DEFAULT, and issues left empty', async () => {
    const projectId = await newProject();
    const now = new Date();
    const old = new Date(now.getTime() - 400 * DAY_MS);
    const oldMonth = old.toISOString().slice(0, 7);
    await dataSource.query(
      `SELECT ensure_month_partition(t, $1::date) FROM unnest(ARRAY['envelopes', 'events']) AS t`,
      [`${oldMonth}-01`],
    );
    const ancient = new Date(now.getTime() - 800 * DAY_MS); // no partition: DEFAULT
    await store(projectId, eventEnvelope({ message: 'old' }), { receivedAt: old });
    await store(projectId, eventEnvelope({ message: 'ancient' }), { receivedAt: ancient });
    await store(projectId, eventEnvelope({ message: 'fresh' }));
    await eventsOnceThere(projectId, 3);
    const issuesBefore = await api.call(`/api/v1/projects/${projectId}/issues`, as(owner, 'GET'));
    expect((await expectStatus<Page<IssueBody>>(issuesBefore, 200)).total).toBe(3);

    const result = await api.app.get(EventsRetention).purge(now);
    const suffix = oldMonth.replace('-', '');
    expect(result.droppedPartitions).toEqual(
      expect.arrayContaining([`envelopes_${suffix}`, `events_${suffix}`]),
    );
    expect(result.deletedIssues).toBeGreaterThanOrEqual(2);
    const left = await eventsOnceThere(projectId, 1);
    expect(left[0]?.message).toBe('fresh');
    const issues = await expectStatus<Page<IssueBody>>(
      await api.call(`/api/v1/projects/${projectId}/issues`, as(owner, 'GET')),
      200,
    );
    expect(issues.data.map((issue) => issue.title)).toEqual(['fresh']);
    const ahead = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1));
    const name = `events_${ahead.toISOString().slice(0, 7).replace('-', '')}`;
    const [exists] = await dataSource.query<{ found: string | null }[]>(
      'SELECT to_regclass($1)::text AS found',
      [name],
    );
    expect(exists?.found).toBe(name);
  });
});
