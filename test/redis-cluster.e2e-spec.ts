import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { UsageIngestModule } from '../src/modules/usage/usage-ingest.module.js';
import { QUEUE_NAMES } from '../src/queues/queue-names.js';
import {
  LIMITER_REDIS,
  QUEUE_CONNECTION,
  REDIS,
  type RedisClient,
} from '../src/redis/redis-client.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { keySlot } from './support/key-slot.js';
import { type TestApp, startApp } from './support/test-app.js';
import { scanKeys } from './support/test-redis.js';
import { eventually } from './support/wait.js';

/**
 * What only the cluster run can show (`npm test` runs this file again with
 * TEST_REDIS_CLUSTER_NODES; on one Redis it is skipped): the app really talks to the cluster
 * on every connection, readiness checks the cluster, and BullMQ's keys are hash-tagged.
 */
const onCluster = (process.env.REDIS_CLUSTER_NODES ?? '') !== '';

(onCluster ? describe : describe.skip)('on a Redis Cluster', () => {
  let api: TestApp;
  let owner: Account;

  beforeAll(async () => {
    api = await startApp({ imports: [UsageIngestModule] });
    owner = await registerOwner(api);
  });

  afterAll(async () => {
    await api?.close();
  });

  it('every connection of the process is a cluster connection, and readiness checks the cluster', async () => {
    for (const token of [REDIS, LIMITER_REDIS, QUEUE_CONNECTION]) {
      expect(api.app.get(token)).toBeInstanceOf(Cluster);
    }
    const redis = api.app.get<Cluster>(REDIS);
    expect(redis.nodes('master').length).toBeGreaterThanOrEqual(3);
    expect((await api.call('/health/ready')).status).toBe(200);
  });

  it('keeps every key of a queue in one slot, under the hash-tagged QUEUE_PREFIX', async () => {
    // A refused request is queued as a limit event, which the usage worker writes to Postgres.
    const created = await api.call(
      '/api/v1/keys',
      as(owner, 'POST', {
        name: 'cluster queue',
        environment: 'live',
        permissions: ['users:read'],
        rate_limits: [{ window: 'minute', limit: 1 }],
      }),
    );
    const { key } = ((await created.json()) as { data: { key: string } }).data;
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await api.call('/api/v1/auth/me', { headers: { 'x-api-key': key } })).status);
    }
    expect(statuses).toEqual([200, 429, 429]);
    const usage = api.app.get<Queue>(getQueueToken('usage'));
    expect(usage.opts.prefix).toBe(`{${process.env.QUEUE_PREFIX}}`);
    await eventually(async () => {
      expect(await usage.getCompletedCount()).toBeGreaterThan(0);
    }, 15_000);

    const redis = api.app.get<RedisClient>(REDIS);
    const queueKeys = await scanKeys(redis, `{${process.env.QUEUE_PREFIX}}:*`);
    expect(queueKeys.length).toBeGreaterThan(0);
    expect(new Set(queueKeys.map(keySlot)).size).toBe(1);
    // No BullMQ key of this run escaped the tag.
    for (const queue of QUEUE_NAMES) {
      expect(await scanKeys(redis, `${process.env.QUEUE_PREFIX}:${queue}:*`)).toEqual([]);
    }
  });
});
