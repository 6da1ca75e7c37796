import { Inject, Injectable } from '@nestjs/common';
import { WebhookConfig } from '../../config/config.classes.js';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';

/**
 * At most this many deliveries to one endpoint are in flight at once, across every worker: a
 * slow or hanging receiver holds at most this many of a worker's delivery slots, and the
 * others keep serving every other endpoint.
 */
export const ENDPOINT_CONCURRENCY = 5;
/** A slot outlives the attempt's timeout by this much; then a killed worker's slot frees itself. */
const LEASE_MARGIN_MS = 15_000;

/**
 * KEYS[1] = the endpoint's in-flight set (member: job id, score: lease end in ms);
 * ARGV = limit, lease ms, job id. Drops expired leases, then takes a slot (or renews the
 * job's own) when fewer than `limit` are held. Returns -1 when taken; when full, how long ago
 * (ms) the oldest delivery in flight took its slot (every lease is as long).
 */
const ACQUIRE = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(0, now - (tonumber(oldest[2]) - lease))
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return -1`;

export type SlotAnswer = { taken: true } | { taken: false; oldestMs: number };

type SlotsRedis = RedisClient & {
  gatehouseWebhookSlot(key: string, limit: number, leaseMs: number, job: string): Promise<number>;
};

/**
 * The per-endpoint concurrency limit: a Redis sorted set per endpoint of the jobs delivering
 * to it, each with a lease a little longer than an attempt can take (so a worker killed
 * mid-delivery does not hold its slot for ever).
 */
@Injectable()
export class WebhookEndpointSlots {
  private readonly redis: SlotsRedis;
  private readonly leaseMs: number;

  constructor(@Inject(REDIS) redis: RedisClient, config: WebhookConfig) {
    if (!('gatehouseWebhookSlot' in redis)) {
      redis.defineCommand('gatehouseWebhookSlot', { numberOfKeys: 1, lua: ACQUIRE });
    }
    this.redis = redis as SlotsRedis;
    this.leaseMs = config.deliveryTimeoutMs + LEASE_MARGIN_MS;
  }

  private key(webhookId: string): string {
    return `webhook-inflight:{${webhookId}}`;
  }

  /**
   * Takes one of the endpoint's slots for `jobId`. When all are in use, `oldestMs` says for
   * how long the oldest delivery in flight to it has been going: a few ms for a receiver that
   * answers fast (a slot frees any moment), seconds for a slow or hanging one.
   */
  async acquire(webhookId: string, jobId: string): Promise<SlotAnswer> {
    const key = this.key(webhookId);
    const answer = await this.redis.gatehouseWebhookSlot(
      key,
      ENDPOINT_CONCURRENCY,
      this.leaseMs,
      jobId,
    );
    return answer < 0 ? { taken: true } : { taken: false, oldestMs: answer };
  }

  /** Gives the slot back; if Redis cannot be reached, its lease ends it soon enough. */
  async release(webhookId: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.key(webhookId), jobId).catch(() => undefined);
  }
}
