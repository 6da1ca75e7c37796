import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import type { UsageBatch } from '../src/modules/usage/usage-record.js';
import { UsageRecorder } from '../src/modules/usage/usage-recorder.js';
import { registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

const TOKEN = 'usage-metrics-token-0123456789';

/**
 * Queue and Redis prefixes of its own (under the run's, which the teardown removes): the usage
 * queue and the ingested count are this app's alone.
 */
function ownPrefixes(): Record<string, string> {
  const id = randomUUID().slice(0, 8);
  return {
    QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gatehouse'}-um-${id}`,
    REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? 'gh:'}um-${id}:`,
    METRICS_TOKEN: TOKEN,
  };
}

/** The value of an unlabelled sample in a Prometheus text exposition. */
async function metric(api: TestApp, name: string): Promise<number> {
  const response = await api.call('/metrics', {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(response.status).toBe(200);
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(await response.text());
  if (match?.[1] === undefined) throw new Error(`${name} not in /metrics`);
  return Number(match[1]);
}

describe('the usage pipeline on /metrics: queue depth, oldest pending age, rows ingested', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('with no worker consuming: 5,000 pending batches are counted, the oldest one aged, and /health/ready stays 200', async () => {
    const api = await startApp({ env: ownPrefixes() });
    apps.push(api);
    const queue = api.app.get<Queue>(getQueueToken('usage'));
    const empty: UsageBatch = { records: [] };
    expect(await metric(api, 'gatehouse_usage_queue_depth')).toBe(0);
    expect(await metric(api, 'gatehouse_usage_queue_oldest_pending_age_seconds')).toBe(0);

    // The oldest batch was enqueued two minutes ago; one more waits for a retry (delayed).
    await queue.add('usage.record', empty, { timestamp: Date.now() - 120_000 });
    for (let added = 1; added < 5_000; added += 1_000) {
      const count = Math.min(1_000, 5_000 - added);
      await queue.addBulk(
        Array.from({ length: count }, () => ({ name: 'usage.record' as const, data: empty })),
      );
    }
    await queue.add('usage.record', empty, { delay: 3_600_000 });

    await eventually(async () => {
      expect(await metric(api, 'gatehouse_usage_queue_depth')).toBe(5_001);
    });
    const age = await metric(api, 'gatehouse_usage_queue_oldest_pending_age_seconds');
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(180);
    expect(await metric(api, 'gatehouse_usage_queue_failed')).toBe(0);
    expect(await metric(api, 'gatehouse_usage_rows_ingested_total')).toBe(0);

    // Readiness is about Postgres and Redis answering, not about the backlog.
    const ready = await api.call('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
    await queue.obliterate({ force: true });
  });

  it('with a worker: rows ingested counts the rows written, once, and the queue drains to 0', async () => {
    const api = await startApp({ env: ownPrefixes(), imports: [UsageIngestModule] });
    apps.push(api);
    const owner = await registerOwner(api);
    const recorder = api.app.get(UsageRecorder);
    const drained = async () => {
      await recorder.flush();
      expect(recorder.buffered).toBe(0);
      expect(await metric(api, 'gatehouse_usage_queue_depth')).toBe(0);
    };
    await eventually(drained);
    const before = await metric(api, 'gatehouse_usage_rows_ingested_total');

    const prefix = `um-${randomUUID()}`;
    for (let i = 0; i < 7; i += 1) {
      const response = await api.call('/api/v1/auth/me', {
        headers: { ...owner.auth, 'x-request-id': `${prefix}-${i}` },
      });
      expect(response.status).toBe(200);
    }
    await eventually(async () => {
      await drained();
      expect(await metric(api, 'gatehouse_usage_rows_ingested_total')).toBe(before + 7);
    });
    const [{ rows }] = await api.app
      .get(DataSource)
      .query<{ rows: number }[]>(
        `SELECT count(*)::int AS rows FROM usage_logs WHERE request_id LIKE $1 || '%'`,
        [prefix],
      );
    expect(rows).toBe(7);
    expect(await metric(api, 'gatehouse_usage_queue_oldest_pending_age_seconds')).toBe(0);
  });
});
