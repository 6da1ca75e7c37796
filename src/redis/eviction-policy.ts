import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './redis-client.js';

interface Warner {
  warn(message: unknown): void;
}

/** What one node answers to CONFIG GET maxmemory-policy: the policy, or why it could not tell. */
async function policyOf(node: Redis): Promise<string> {
  const reply: unknown = await node.config('GET', 'maxmemory-policy');
  // CONFIG GET answers [name, value] (RESP2) or {name: value} (RESP3).
  const value: unknown = Array.isArray(reply)
    ? reply[1]
    : reply !== null && typeof reply === 'object'
      ? (reply as Record<string, unknown>)['maxmemory-policy']
      : undefined;
  return typeof value === 'string' ? value : 'unknown';
}

/**
 * BullMQ loses jobs when Redis evicts keys under memory pressure: anything but `noeviction`
 * gets one loud warning at worker start. On a cluster every master is asked. A Redis that
 * refuses CONFIG (managed services rename or disable it) gets a warning that it could not be
 * checked, never a failed start.
 */
export async function warnUnlessNoEviction(redis: RedisClient, logger: Warner): Promise<void> {
  const nodes: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const wrong: string[] = [];
  try {
    for (const node of nodes) {
      const policy = await policyOf(node);
      if (policy !== 'noeviction') wrong.push(policy);
    }
  } catch (error) {
    logger.warn({
      msg: 'could not read Redis maxmemory-policy (CONFIG unavailable); BullMQ needs noeviction: make sure it is set',
      error: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  if (wrong.length === 0) return;
  logger.warn({
    msg: `Redis maxmemory-policy is ${[...new Set(wrong)].join(', ')}, not noeviction: under memory pressure Redis will evict queued jobs (webhook deliveries, usage records) and they will be lost. Set maxmemory-policy noeviction.`,
    maxmemoryPolicy: [...new Set(wrong)],
  });
}
