import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { RateLimitConfig } from '../../config/config.classes.js';
import { Deadlines } from '../../redis/deadlines.js';
import {
  type LimiterCall,
  type LimiterCallParts,
  encodeLimiterCall,
  runLimiterScript,
} from './limiter-command.js';
import {
  LIMITER_REDIS,
  LIMITER_TIMEOUT_MS,
  REDIS,
  type RedisClient,
} from '../../redis/redis-client.js';

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

/** One quota's counter for its current period. */
export interface QuotaCounter {
  /** The quota's id: its counter is shared by every credential the quota covers. */
  id: string;
  max: number;
  periodStartMs: number;
  periodEndMs: number;
}

export interface LimiterSubject {
  /**
   * The Redis hash tag of every key a call touches: an API key's organization (so its
   * organization-wide quotas are counted in the same script on Redis Cluster), or the user.
   */
  tag: string;
  /** Whose windows these are within the tag (`key:<id>`, or `user` in a user's own tag). */
  subject: string;
}

export interface LimiterRequest extends LimiterSubject {
  windows: WindowPolicy[];
  quotas?: QuotaCounter[];
  cost: number;
  /** Decide as for the next request but consume and mark nothing (explain). */
  peek?: boolean;
  /** Tests pass a clock; production uses Redis TIME so every process agrees. */
  nowMs?: number;
  /**
   * The generation of the tag's limits (see `limitsChanged`) that the caller's windows and
   * quotas were read at; when Redis holds another, the call throws StaleLimits and counts
   * nothing. Left out, no check (a user's tag, whose limits no write bumps).
   */
  generation?: number;
}

/**
 * The caller's copy of an organization's limits (quotas, plan, a key's own windows) is older
 * than the last change written to Postgres: re-read them and call again.
 */
export class StaleLimits extends Error {
  constructor(readonly generation: number) {
    super(`limits changed (generation ${generation})`);
  }
}

export type Outcome = 'admitted' | 'rate_limited' | 'over_quota' | 'revoked';

export interface WindowState {
  remaining: number;
  resetMs: number;
}

export interface QuotaState {
  used: number;
  remaining: number;
  /** This request took the quota to its warning threshold (80 %); one request per period. */
  crossedWarning: boolean;
  /** This is the quota's first refusal of the period; one request per period. */
  firstRefusal: boolean;
}

export interface LimiterResult {
  outcome: Outcome;
  /** Index into `windows` of the window that rejected, else of the tightest one. */
  deciding: number;
  /** Index into `quotas` of the quota that rejected (outcome `over_quota`), else -1. */
  decidingQuota: number;
  windows: WindowState[];
  quotas: QuotaState[];
}

/** A quota warns once its period's use reaches this share of its max. */
export const QUOTA_WARNING_SHARE = 0.8;

const DISCONNECTED = new Set(['reconnecting', 'close', 'end']);
/** Members of the sliding logs: unique across processes and restarts, cheaper than a UUID each. */
const PROCESS_ID = randomUUID();
let sequence = 0;
const OUTCOMES: Outcome[] = ['admitted', 'rate_limited', 'over_quota', 'revoked'];
/** The script's answer when the caller's limits are older than Redis's generation. */
const STALE = 4;
const ALGORITHM_CODE = { exact: 0, bucketed: 1, token_bucket: 2 } as const;
/** Subjects (API keys, users) whose calls are kept encoded; past this the cache starts over. */
const ENCODED_CALLS_MAX = 10_000;

/** An encoded call and what it was encoded from (LimiterRequest's fields but the member). */
interface EncodedCall {
  windows: WindowPolicy[];
  quotas: QuotaCounter[];
  nowMs: number | undefined;
  cost: number;
  peek: boolean | undefined;
  generation: number | undefined;
  call: LimiterCall;
}

function isEncodingOf(encoded: EncodedCall, request: LimiterRequest): boolean {
  const quotas = request.quotas ?? [];
  return (
    encoded.windows === request.windows &&
    encoded.nowMs === request.nowMs &&
    encoded.cost === request.cost &&
    encoded.peek === request.peek &&
    encoded.generation === request.generation &&
    encoded.quotas.length === quotas.length &&
    encoded.quotas.every(
      (quota, i) =>
        quota.id === quotas[i]?.id &&
        quota.max === quotas[i].max &&
        quota.periodStartMs === quotas[i].periodStartMs &&
        quota.periodEndMs === quotas[i].periodEndMs,
    )
  );
}

/** The keys and arguments of limiter.lua for a request (see the script's header). */
function callParts(request: LimiterRequest): LimiterCallParts {
  const tag = `{${request.tag}}`;
  const keys = [
    revocationKey(request),
    ...request.windows.map((w) => `rl:${tag}:${request.subject}:${w.name}`),
  ];
  const beforeMember = [request.nowMs ?? 0, request.cost, request.windows.length];
  const afterMember: (string | number)[] = [request.peek === true ? 1 : 0];
  for (const window of request.windows) {
    const code =
      window.algorithm === 'token_bucket'
        ? ALGORITHM_CODE.token_bucket
        : window.limit <= EXACT_LIMIT_MAX
          ? ALGORITHM_CODE.exact
          : ALGORITHM_CODE.bucketed;
    afterMember.push(code, window.windowMs, window.limit);
  }
  const quotas = request.quotas ?? [];
  afterMember.push(quotas.length);
  for (const quota of quotas) {
    const counter = quotaCounterKey(request.tag, quota.id, quota.periodStartMs);
    keys.push(counter, `${counter}:events`);
    afterMember.push(quota.max, quota.periodEndMs, Math.ceil(quota.max * QUOTA_WARNING_SHARE));
  }
  keys.push(generationKey(request.tag));
  afterMember.push(request.generation ?? '');
  return { keys, beforeMember, afterMember };
}

export function revocationKey({ tag, subject }: LimiterSubject): string {
  return `revoked:{${tag}}:${subject}`;
}

/** How many times the limits of the tag (an organization) have changed; missing is 0. */
export function generationKey(tag: string): string {
  return `limits-generation:{${tag}}`;
}

/**
 * Where an API key's counters live: tagged by its organization, so that organization-wide
 * quotas are counted in the same script on Redis Cluster.
 */
export function keySubject(organizationId: string, keyId: string): LimiterSubject {
  return { tag: organizationId, subject: `key:${keyId}` };
}

/** A quota's counter for the period that starts at `periodStartMs`. */
export function quotaCounterKey(tag: string, quotaId: string, periodStartMs: number): string {
  return `quota:{${tag}}:${quotaId}:${periodStartMs}`;
}

/**
 * The one place a rate-limit decision is made: limiter.lua, run with EVALSHA in one round
 * trip (ioredis falls back to EVAL, reloading the script, after NOSCRIPT from a restarted
 * Redis). Every key of a subject shares the `{subject}` hash tag. It owns every Redis key of
 * its own: other modules revoke keys and read quota usage through it, never by key name.
 */
@Injectable()
export class Limiter {
  /** REDIS_PREFIX: the connection's, put on the script's keys here (a bare Command gets none). */
  private readonly keyPrefix: string;
  /**
   * Each subject's last call, encoded: its keys, windows and quota periods are the same from
   * one request to the next, so a call only writes its member. Building the keys, arguments
   * and RESP text on every call was most of what the hot path allocated for Redis.
   */
  private readonly encoded = new Map<string, EncodedCall>();
  /** A call not answered in time (RATE_LIMIT_TIMEOUT_MS) counts as Redis being down. */
  private readonly deadlines: Deadlines;

  constructor(
    @Inject(LIMITER_REDIS) private readonly redis: RedisClient,
    /** For management calls (revocation, usage reads): not the hot path's 250 ms connection. */
    @Inject(REDIS) private readonly management: RedisClient = redis,
    @Optional() config?: RateLimitConfig,
  ) {
    this.deadlines = new Deadlines(config?.timeoutMs ?? LIMITER_TIMEOUT_MS);
    this.keyPrefix = redis.options.keyPrefix ?? '';
    // Connected only where limits are checked (the api), not in every process.
    if (redis.status === 'wait') void redis.connect().catch(() => undefined);
  }

  /** Refuses these keys in every later limiter call, on every process (the rows may be gone). */
  async markRevoked(organizationId: string, keyIds: readonly string[]): Promise<void> {
    for (const keyId of keyIds)
      await this.management.set(revocationKey(keySubject(organizationId, keyId)), '1');
  }

  /**
   * True for the first caller per key, window length and window start (`windowMs`-aligned):
   * a rate_limit.exceeded event is sent once per window however many requests it refuses.
   * Off the request path (the refusal has been answered); the marker expires with the window.
   */
  async firstWindowRefusal(
    organizationId: string,
    keyId: string,
    windowMs: number,
    windowStartMs: number,
  ): Promise<boolean> {
    const marker = `rate-limit-exceeded:{${organizationId}}:key:${keyId}:${windowMs}:${windowStartMs}`;
    return (await this.management.set(marker, '1', 'PX', windowMs * 2, 'NX')) === 'OK';
  }

  /**
   * After a change of an organization's quotas, plan or keys' limits is committed, and before
   * it is answered: every process's next limiter call for the organization finds its copy
   * stale and re-reads it, so the change holds from the next request on, wherever it lands.
   */
  async limitsChanged(organizationId: string): Promise<void> {
    await this.management.incr(generationKey(organizationId));
  }

  /**
   * How much of each quota's period is used (throws when Redis is unavailable). One GET each,
   * sent together: an MGET would fail on a Redis Cluster for counters in different slots.
   */
  async quotaUsage(
    quotas: readonly { organizationId: string; id: string; periodStartMs: number }[],
  ): Promise<number[]> {
    const counts = await Promise.all(
      quotas.map((quota) =>
        this.management.get(quotaCounterKey(quota.organizationId, quota.id, quota.periodStartMs)),
      ),
    );
    return counts.map((count) => Number(count ?? 0));
  }

  async check(request: LimiterRequest): Promise<LimiterResult> {
    // Lost connection means down now: fail at once rather than wait in the offline queue.
    if (DISCONNECTED.has(this.redis.status)) throw new Error(`redis ${this.redis.status}`);
    const member = `${PROCESS_ID}:${(sequence += 1)}`;
    const reply = await this.deadlines.within(
      runLimiterScript(this.redis, this.encodedCall(request), member),
    );
    const [outcome = 0, deciding = 0, decidingQuota = 0] = reply;
    if (outcome === STALE) throw new StaleLimits(deciding);
    const windows: WindowState[] = [];
    let at = 3;
    for (let i = 0; i < request.windows.length && outcome !== 3; i += 1, at += 2) {
      windows.push({ remaining: reply[at] ?? 0, resetMs: reply[at + 1] ?? 0 });
    }
    const quotaStates: QuotaState[] = [];
    const quotas = request.quotas ?? [];
    for (let j = 0; j < quotas.length && outcome !== 3; j += 1, at += 3) {
      quotaStates.push({
        used: reply[at] ?? 0,
        remaining: reply[at + 1] ?? 0,
        crossedWarning: reply[at + 2] === 1,
        firstRefusal: reply[at + 2] === 2,
      });
    }
    return {
      outcome: OUTCOMES[outcome] ?? 'rate_limited',
      deciding: Math.max(deciding - 1, 0),
      decidingQuota: decidingQuota - 1,
      windows,
      quotas: quotaStates,
    };
  }

  private encodedCall(request: LimiterRequest): LimiterCall {
    const id = `${request.tag} ${request.subject}`;
    const found = this.encoded.get(id);
    if (found !== undefined && isEncodingOf(found, request)) return found.call;
    const call = encodeLimiterCall(callParts(request), this.keyPrefix);
    if (this.encoded.size >= ENCODED_CALLS_MAX) this.encoded.clear();
    this.encoded.set(id, {
      windows: request.windows,
      quotas: (request.quotas ?? []).map((quota) => ({ ...quota })),
      nowMs: request.nowMs,
      cost: request.cost,
      peek: request.peek,
      generation: request.generation,
      call,
    });
    return call;
  }
}
