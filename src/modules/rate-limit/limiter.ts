import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';

/** Exact logs up to this limit; above it, 1/60-window buckets (API.md allows only that). */
export const EXACT_LIMIT_MAX = 10_000;

export type Algorithm = 'sliding_window' | 'token_bucket';

export interface WindowPolicy {
  /** Names this window's state among the subject's (e.g. `key:60000`, `tier:60000`). */
  name: string;
  algorithm: Algorithm;
  windowMs: number;
  limit: number;
}

export interface LimiterRequest {
  /** Whose counters these are (an API key id or a user id); the Redis hash tag. */
  subject: string;
  windows: WindowPolicy[];
  cost: number;
  quota?: { name: string; max: number; periodEndMs: number };
  /** Tests pass a clock; production uses Redis TIME so every process agrees. */
  nowMs?: number;
}

export type Outcome = 'admitted' | 'rate_limited' | 'over_quota' | 'revoked';

export interface WindowState {
  remaining: number;
  resetMs: number;
}

export interface LimiterResult {
  outcome: Outcome;
  /** Index into `windows` of the window that rejected, or the tightest one when admitted. */
  deciding: number;
  windows: WindowState[];
  quota: { used: number; remaining: number } | null;
}

const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);
const OUTCOMES: Outcome[] = ['admitted', 'rate_limited', 'over_quota', 'revoked'];
const ALGORITHM_CODE = { exact: 0, bucketed: 1, token_bucket: 2 } as const;

type LimiterRedis = Redis & {
  gatehouseLimit(numberOfKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

export function revocationKey(subject: string): string {
  return `revoked:{${subject}}`;
}

/**
 * The one place a rate-limit decision is made: limiter.lua, run with EVALSHA in one round
 * trip (ioredis falls back to EVAL, reloading the script, after NOSCRIPT from a restarted
 * Redis). Every key of a subject shares the `{subject}` hash tag.
 */
@Injectable()
export class Limiter {
  private readonly redis: LimiterRedis;

  constructor(@Inject(Redis) redis: Redis) {
    if (!('gatehouseLimit' in redis)) {
      redis.defineCommand('gatehouseLimit', {
        lua: readFileSync(new URL('./limiter.lua', import.meta.url), 'utf8'),
      });
    }
    this.redis = redis as LimiterRedis;
  }

  async check(request: LimiterRequest): Promise<LimiterResult> {
    // Lost connection means down now: fail at once rather than wait in the offline queue.
    if (DISCONNECTED.has(this.redis.status)) throw new Error(`redis ${this.redis.status}`);
    const tag = `{${request.subject}}`;
    const keys = [
      revocationKey(request.subject),
      ...request.windows.map((w) => `rl:${tag}:${w.name}`),
    ];
    const args: (string | number)[] = [
      request.nowMs ?? 0,
      request.cost,
      request.windows.length,
      randomUUID(),
    ];
    for (const window of request.windows) {
      const code =
        window.algorithm === 'token_bucket'
          ? ALGORITHM_CODE.token_bucket
          : window.limit <= EXACT_LIMIT_MAX
            ? ALGORITHM_CODE.exact
            : ALGORITHM_CODE.bucketed;
      args.push(code, window.windowMs, window.limit);
    }
    if (request.quota !== undefined) {
      keys.push(`quota:${tag}:${request.quota.name}`);
      args.push(request.quota.max, request.quota.periodEndMs);
    } else {
      keys.push(`quota:${tag}:none`);
      args.push(0, 0);
    }
    const reply = await this.redis.gatehouseLimit(keys.length, ...keys, ...args);
    const [outcome = 0, deciding = 0, quotaUsed = 0, quotaRemaining = 0, ...windowValues] = reply;
    const windows: WindowState[] = [];
    for (let i = 0; i + 1 < windowValues.length; i += 2) {
      windows.push({ remaining: windowValues[i] ?? 0, resetMs: windowValues[i + 1] ?? 0 });
    }
    return {
      outcome: OUTCOMES[outcome] ?? 'rate_limited',
      deciding: Math.max(deciding - 1, 0),
      windows,
      quota: request.quota === undefined ? null : { used: quotaUsed, remaining: quotaRemaining },
    };
  }
}
