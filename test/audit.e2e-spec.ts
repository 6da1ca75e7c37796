import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { AUDIT_ACTIONS } from '../src/modules/audit/audit-actions.js';
import { AuditRetention } from '../src/modules/audit/audit-retention.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';

interface AuditList {
  data: {
    id: string;
    action: string;
    actor: { type: string; id: string };
    target: { type: string; id: string } | null;
  }[];
  total: number;
}

const DAY_MS = 86_400_000;

describe('audit trail', () => {
  let api: TestApp;
  let owner: Account;
  let dataSource: DataSource;

  beforeAll(async () => {
    api = await startApp();
    owner = await registerOwner(api);
    dataSource = api.app.get(DataSource);
  });

  afterAll(async () => {
    await api.close();
  });

  async function list(query: string): Promise<AuditList> {
    const response = await api.call(`/api/v1/audit${query}`, as(owner, 'GET'));
    expect(response.status).toBe(200);
    return (await response.json()) as AuditList;
  }

  it('filters by action, target, actor and time, newest first, paginated', async () => {
    const before = new Date().toISOString();
    const created = await api.call('/api/v1/projects', as(owner, 'POST', { name: 'Audited' }));
    const { data: project } = (await created.json()) as { data: { id: number } };
    await api.call(`/api/v1/projects/${project.id}`, as(owner, 'PATCH', { name: 'Audited 2' }));

    const byTarget = await list(`?target_type=project&target_id=${project.id}`);
    expect(byTarget.data.map((entry) => entry.action)).toEqual([
      'project.updated',
      'project.created',
    ]);
    expect(byTarget.data[0]?.actor).toEqual({ type: 'user', id: owner.userId });

    expect((await list('?action=project.created')).total).toBe(1);
    expect((await list(`?actor_id=${owner.userId}&start_date=${before}`)).total).toBe(2);
    expect((await list(`?end_date=${before}`)).data.map((entry) => entry.action)).not.toContain(
      'project.created',
    );
    const firstPage = await list('?limit=1');
    expect(firstPage.data).toHaveLength(1);
    expect(firstPage.total).toBeGreaterThanOrEqual(3);
  });

  it('400 for malformed filters', async () => {
    for (const query of ['?start_date=yesterday', '?action=DROP%20TABLE', '?limit=500']) {
      expect((await api.call(`/api/v1/audit${query}`, as(owner, 'GET'))).status).toBe(400);
    }
  });

  it('an action the trail never records is a 400 listing every one it does', async () => {
    const response = await api.call('/api/v1/audit?action=project.renamed', as(owner, 'GET'));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as {
      error: { code: string; details: { field: string; message: string }[] };
    };
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.details).toEqual([{ field: 'action', message: expect.any(String) }]);
    const message = error.details[0]?.message ?? '';
    for (const action of AUDIT_ACTIONS) expect(message).toContain(action);
  });

  it('documents the actions as the enum of the action filter', async () => {
    const document = (await (await api.call('/openapi.json')).json()) as {
      paths: Record<
        string,
        { get: { parameters: { name: string; schema: { enum?: string[] } }[] } }
      >;
    };
    const filter = document.paths['/api/v1/audit']?.get.parameters.find(
      (parameter) => parameter.name === 'action',
    );
    expect(filter?.schema.enum).toEqual([...AUDIT_ACTIONS]);
  });

  it('is read only over HTTP', async () => {
    const entry = (await list('?limit=1')).data[0];
    const post = await api.call('/api/v1/audit', as(owner, 'POST', {}));
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect((await api.call(`/api/v1/audit/${entry?.id}`, as(owner, 'DELETE'))).status).toBe(404);
  });

  it('is append-only in the database: UPDATE, DELETE and TRUNCATE are rejected', async () => {
    for (const sql of [
      `UPDATE audit_log SET action = 'tampered' WHERE organization_id = '${owner.organizationId}'`,
      `DELETE FROM audit_log WHERE organization_id = '${owner.organizationId}'`,
      'TRUNCATE audit_log',
    ]) {
      await expect(dataSource.query(sql)).rejects.toThrow(/append-only/);
    }
    expect((await list('')).total).toBeGreaterThan(0);
  });

  it('the retention purge drops expired months, deletes older rows, keeps recent ones and makes next months', async () => {
    const now = new Date();
    const organizationId = owner.organizationId;
    const insert = (createdAt: Date, action: string) =>
      dataSource.query(
        "INSERT INTO audit_log (organization_id, action, actor_type, created_at) VALUES ($1, $2, 'system', $3)",
        [organizationId, action, createdAt],
      );
    const old = new Date(now.getTime() - 400 * DAY_MS);
    await dataSource.query('SELECT audit_ensure_partition($1::date)', [old]);
    await insert(old, 'test.ancient');
    await insert(new Date(now.getTime() - 120 * DAY_MS), 'test.expired');
    await insert(new Date(now.getTime() - 10 * DAY_MS), 'test.recent');

    const retention = new AuditRetention(dataSource, { retentionDays: 90 });
    const result = await retention.purge(now);

    const oldMonth = `audit_log_${old.getUTCFullYear()}_${String(old.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(result.droppedPartitions).toContain(oldMonth);
    expect(result.deletedRows).toBeGreaterThanOrEqual(1);
    const remaining: { action: string }[] = await dataSource.query(
      "SELECT action FROM audit_log WHERE organization_id = $1 AND action LIKE 'test.%'",
      [organizationId],
    );
    expect(remaining.map((row) => row.action)).toEqual(['test.recent']);
    const future = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 3, 1));
    const futureName = `audit_log_${future.getUTCFullYear()}_${String(future.getUTCMonth() + 1).padStart(2, '0')}`;
    const [exists] = await dataSource.query<{ present: boolean }[]>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [futureName],
    );
    expect(exists?.present).toBe(true);
    // The purge's permission ended with its transaction.
    await expect(
      dataSource.query("DELETE FROM audit_log WHERE action = 'test.recent'"),
    ).rejects.toThrow(/append-only/);
  });
});
