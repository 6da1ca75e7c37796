import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DatabaseConfig, RedisConfig } from '../src/config/config.classes.js';
import { createDatabase, dropDatabase } from './support/test-env.js';
import { type TestApp, startApp } from './support/test-app.js';

interface ReadyError {
  error: { code: string; message: string; details: Record<string, string> };
}

describe('health', () => {
  let api: TestApp | undefined;

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('GET /health, /health/live and /health/ready answer 200 when Postgres and Redis answer', async () => {
    api = await startApp();
    for (const path of ['/health', '/health/live', '/health/ready']) {
      const response = await api.call(path);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    }
  });

  it('/health/ready is 503 naming the database when Postgres stops answering', async () => {
    const database = `gatehouse_test_down_${randomBytes(4).toString('hex')}`;
    const url = await createDatabase(database);
    try {
      api = await startApp({ overrides: [[DatabaseConfig, { url }]] });
      expect((await api.call('/health/ready')).status).toBe(200);
    } finally {
      await dropDatabase(database); // terminates the app's connections; reconnecting fails
    }

    const response = await api.call('/health/ready');
    expect(response.status).toBe(503);
    const body = (await response.json()) as ReadyError;
    expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.error.details).toEqual({ database: 'down', redis: 'up' });
    expect(body.error.message).toContain('database');
    expect((await api.call('/health/live')).status).toBe(200);
  });

  it('/health/ready is 503 naming Redis when Redis does not answer', async () => {
    const deadRedis: RedisConfig = {
      url: 'redis://127.0.0.1:1',
      clusterNodes: [],
      keyPrefix: 'gh-test-dead:',
    };
    api = await startApp({ overrides: [[RedisConfig, deadRedis]] });
    const response = await api.call('/health/ready');
    expect(response.status).toBe(503);
    const body = (await response.json()) as ReadyError;
    expect(body.error.details).toEqual({ database: 'up', redis: 'down' });
    expect((await api.call('/health/live')).status).toBe(200);
  });
});
