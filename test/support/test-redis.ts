import { Cluster } from 'ioredis';
import type { RedisConfig } from '../../src/config/config.classes.js';
import { validateEnv } from '../../src/config/env.js';
import { connectRedis, type RedisClient } from '../../src/redis/redis-client.js';

/** This run's Redis as the app sees it: one node, or the cluster of TEST_REDIS_CLUSTER_NODES. */
export function testRedisConfig(): RedisConfig {
  const env = validateEnv(process.env);
  return { url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES, keyPrefix: env.REDIS_PREFIX };
}

/** A connection like the app's, with this run's key prefix unless told otherwise. */
export function testRedis(
  keyPrefix: string | undefined = testRedisConfig().keyPrefix,
): RedisClient {
  return connectRedis(testRedisConfig(), {
    name: 'TestRedis',
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
  });
}

/**
 * Every key matching `pattern` (a SCAN pattern: never prefixed by the connection), on every
 * master of a cluster.
 */
export async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  if (client instanceof Cluster && client.status !== 'ready') {
    await new Promise((resolve) => client.once('ready', resolve));
  }
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  const names: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      names.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return names;
}
