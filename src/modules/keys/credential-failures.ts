import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../../common/app-error.js';
import { CredentialFailureConfig } from '../../config/config.classes.js';
import { REDIS, type RedisClient } from '../../redis/redis-client.js';
import { retryAfterSeconds } from '../../common/retry-after.js';

const WINDOW_MS = 60_000;
/** Addresses this process knows to be over their limit; oldest out first past this many. */
const MAX_BLOCKED = 10_000;

/**
 * Whose failures count together: an IPv4 address, or an IPv6 /64 (one subscriber's network,
 * which hands its hosts any address in it). IPv4-mapped IPv6 counts as its IPv4 address.
 */
export function clientAddressKey(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('::');
  const tokens = (part: string | undefined) =>
    part === undefined || part === '' ? [] : part.split(':');
  // An embedded IPv4 tail (`::1.2.3.4`) is two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const before = tokens(head);
  const after = tokens(tail);
  const groups =
    tail === undefined
      ? before
      : [
          ...before,
          ...Array<string>(Math.max(8 - width(before) - width(after), 0)).fill('0'),
          ...after,
        ];
  const prefix = groups
    .slice(0, 4)
    .map((group) => (group.includes('.') ? group : parseInt(group, 16).toString(16)));
  return `${prefix.join(':')}::/64`;
}

/**
 * Failed credential attempts (unknown or malformed API keys, invalid bearer tokens) per
 * client address: AUTH_FAILURES_PER_IP in a fixed minute, counted in Redis so the limit holds
 * across processes. Past it, further failures from that address are 429 with Retry-After
 * until the minute ends, and this process remembers the block so that they cost neither
 * Redis nor Postgres (nor, refused before routing by BlockedCredentials, Nest's pipeline).
 * A valid credential is never refused here: only what already failed is.
 */
@Injectable()
export class CredentialFailures {
  /** Address key -> end of its block (ms). */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: CredentialFailureConfig,
  ) {}

  /** Whether this process knows `ip` to be over its limit now (no Redis). */
  isBlocked(ip: string, nowMs: number): boolean {
    // Asked before routing for every request with a credential: nothing to parse while no
    // address is blocked.
    if (this.blockedUntil.size === 0) return false;
    return this.blockedUntilOf(clientAddressKey(ip), nowMs) !== undefined;
  }

  /**
   * Counts a failed attempt from `ip` and returns what to answer: `error` itself, or a 429
   * once the address is over its limit. One Redis round trip, none once the block is known
   * here; when Redis is unavailable the failure is not counted (the 401 stands).
   */
  async refuse(ip: string, error: unknown, nowMs = Date.now()): Promise<unknown> {
    const address = clientAddressKey(ip);
    const known = this.blockedUntilOf(address, nowMs);
    if (known !== undefined) return this.tooMany(known, nowMs);
    const redisKey = `authfail:{${address}}`;
    const results = await this.redis
      .multi()
      .incr(redisKey)
      .pexpire(redisKey, WINDOW_MS, 'NX')
      .pttl(redisKey)
      .exec()
      .catch(() => null);
    const failures = Number(results?.[0]?.[1] ?? 0);
    if (failures < this.config.failuresPerIp) return error;
    // The last allowed failure still answers its own 401, but the next is refused before
    // any lookup: the address costs at most the limit in queries per minute.
    const remainingMs = Number(results?.[2]?.[1] ?? WINDOW_MS);
    const until = nowMs + (remainingMs > 0 ? remainingMs : WINDOW_MS);
    this.block(address, until);
    return failures > this.config.failuresPerIp ? this.tooMany(until, nowMs) : error;
  }

  /** The 429 for an address over its limit (known blocked here). */
  blockedError(ip: string, nowMs = Date.now()): AppError {
    return this.tooMany(this.blockedUntilOf(clientAddressKey(ip), nowMs) ?? nowMs, nowMs);
  }

  private tooMany(untilMs: number, nowMs: number): AppError {
    const retryAfter = retryAfterSeconds(untilMs, nowMs);
    return new AppError(
      'RATE_LIMIT_EXCEEDED',
      `Too many failed credentials from this address; retry in ${retryAfter} s`,
      {
        limit: this.config.failuresPerIp,
        window: WINDOW_MS / 1000,
        reset_at: new Date(nowMs + retryAfter * 1000).toISOString(),
      },
      { 'Retry-After': String(retryAfter) },
    );
  }

  private blockedUntilOf(address: string, nowMs: number): number | undefined {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return undefined;
    if (nowMs < until) return until;
    this.blockedUntil.delete(address);
    return undefined;
  }

  private block(address: string, untilMs: number): void {
    this.blockedUntil.delete(address);
    if (this.blockedUntil.size >= MAX_BLOCKED) {
      const oldest = this.blockedUntil.keys().next();
      if (oldest.done !== true) this.blockedUntil.delete(oldest.value);
    }
    this.blockedUntil.set(address, untilMs);
  }
}
