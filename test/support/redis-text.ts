import { closeRedis, type RedisClient } from '../../src/redis/redis-client.js';
import { scanKeys, testRedis } from './test-redis.js';

/**
 * Every value stored under `patterns` (SCAN patterns, which ioredis does not prefix), of
 * every type, as one string: for asserting what never appears in Redis in plaintext.
 */
export async function redisText(
  redis: RedisClient,
  patterns: string[],
  keyPrefix: string,
): Promise<{ keys: number; idempotency: number; text: string }> {
  const names: string[] = [];
  for (const pattern of patterns) names.push(...(await scanKeys(redis, pattern)));
  // The connection prefixes every command's key: give it names without the prefix.
  const unprefixed = (name: string) =>
    name.startsWith(keyPrefix) ? name.slice(keyPrefix.length) : null;
  const parts: string[] = [];
  for (const name of names) {
    const key = unprefixed(name);
    if (key === null) continue; // BullMQ keys (another prefix) are read below
    parts.push(name, await valueText(redis, key));
  }
  const raw = testRedis(undefined);
  try {
    for (const name of names.filter((n) => unprefixed(n) === null)) {
      parts.push(name, await valueText(raw, name));
    }
  } finally {
    await closeRedis(raw);
  }
  return {
    keys: names.length,
    idempotency: names.filter((name) => name.startsWith(`${keyPrefix}idempotency:`)).length,
    text: parts.join('\n'),
  };
}

async function valueText(redis: RedisClient, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.getBuffer(key))?.toString('latin1') ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}
