import { Inject, Injectable } from '@nestjs/common';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';

/** A mark outlives this long without use; a key unused for longer is simply looked up again. */
const MARK_TTL_SECONDS = 30 * 24 * 60 * 60;

function markKey(hash: Buffer): string {
  // 128 bits of the secret's hash name it well enough: a collision only costs a lookup.
  return `keyhash:{${hash.subarray(0, 16).toString('base64url')}}`;
}

/**
 * Marks in Redis of the secret hashes that belong to keys (set when a key is created or
 * rotated, refreshed when one is read from Postgres). While a client address is over its
 * failure limit, a secret this process has not cached is looked up in Postgres only when it
 * carries a mark: a valid key keeps working behind an address an attacker shares, and the
 * attacker's forgeries cost one EXISTS each and no query.
 */
@Injectable()
export class KnownKeyHashes {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** A hint, never a decision: failing to write it only means one more lookup later. */
  async mark(hash: Buffer): Promise<void> {
    await this.redis.set(markKey(hash), '1', 'EX', MARK_TTL_SECONDS).catch(() => undefined);
  }

  async has(hash: Buffer): Promise<boolean> {
    const found = await this.redis.exists(markKey(hash)).catch(() => 0);
    return found === 1;
  }
}
