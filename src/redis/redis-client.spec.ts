import { describe, expect, it } from '@jest/globals';
import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../config/config.classes.js';
import { connectRedis } from './redis-client.js';

describe('connectRedis', () => {
  const config = (clusterNodes: RedisConfig['clusterNodes']): RedisConfig => ({
    url: 'rediss://gatehouse:p%40ss@redis.internal:6380',
    clusterNodes,
    keyPrefix: 'gh:',
  });

  it('without cluster nodes: one Redis at REDIS_URL', () => {
    const client = connectRedis(config([]), { name: 'Test', keyPrefix: 'gh:' });
    client.disconnect();
    expect(client).toBeInstanceOf(Redis);
    expect(client.options).toMatchObject({ host: 'redis.internal', port: 6380, keyPrefix: 'gh:' });
  });

  it("with cluster nodes: a Cluster whose every node takes REDIS_URL's user, password and TLS", () => {
    const nodes = [
      { host: '127.0.0.1', port: 1 },
      { host: '127.0.0.1', port: 2 },
    ];
    const client = connectRedis(config(nodes), {
      name: 'Test',
      keyPrefix: 'gh:',
      commandTimeout: 250,
      failFast: true,
    });
    client.disconnect();
    expect(client).toBeInstanceOf(Cluster);
    const cluster = client as Cluster;
    expect(cluster.options).toMatchObject({
      keyPrefix: 'gh:',
      retryDelayOnFailover: 0,
      redisOptions: { username: 'gatehouse', password: 'p@ss', tls: {}, commandTimeout: 250 },
    });
  });
});
