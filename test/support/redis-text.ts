import type { Redis } from 'ioredis';

/**
 * Every value stored under `pattern` (a SCAN pattern, which ioredis does not prefix), of
 * every type, as one string: for asserting what never appears in Redis in plaintext.
 */
export async function redisText(
  redis: Redis,
  pattern: string,
  keyPrefix: string,
): Promise<{ keys: number; idempotency: number; text: string }> {
  const names: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    names.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  // The connection prefixes every command's key: give it names without the prefix.
  const unprefixed = (name: string) =>
    name.startsWith(keyPrefix) ? name.slice(keyPrefix.length) : null;
  const parts: string[] = [];
  for (const name of names) {
    const key = unprefixed(name);
    if (key === null) continue; // BullMQ keys (QUEUE_PREFIX without the colon) are read below
    parts.push(name, await valueText(redis, key));
  }
  const raw = redis.duplicate({ keyPrefix: '' });
  try {
    for (const name of names.filter((n) => unprefixed(n) === null)) {
      parts.push(name, await valueText(raw, name));
    }
  } finally {
    raw.disconnect();
  }
  return {
    keys: names.length,
    idempotency: names.filter((name) => name.startsWith(`${keyPrefix}idempotency:`)).length,
    text: parts.join('\n'),
  };
}

async function valueText(redis: Redis, key: string): Promise<string> {
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
