import { Injectable, Logger } from '@nestjs/common';
import { CommonErrors } from '../../common/app-error.js';
import type { ApiKeyPrincipal, Principal } from '../../common/principal.js';
import { RateLimitConfig } from '../../config/config.classes.js';
import { type PeriodBounds, currentPeriod } from '../quota/quota-period.js';
import { type ActiveQuota, QuotaStore } from '../quota/quota-store.js';
import { LimitEventRecorder } from './limit-event-recorder.js';
import { admitUncounted } from './limiter-unavailable.js';
import { type LimiterResult, Limiter, type QuotaState, StaleLimits } from './limiter.js';
import { type OrganizationLimits, OrganizationLimitsStore } from './organization-limits-store.js';
import {
  type AppliedWindow,
  type OrganizationSet,
  type WindowName,
  type WindowPlan,
  limiterSubject,
  organizationSet,
  windowsFor,
} from './policies.js';
import { PolicyStore } from './policy-store.js';

export interface AppliedQuota {
  quota: ActiveQuota;
  period: PeriodBounds;
}

/** The quota's current period, computed once per period (quotas are replaced on change). */
const periods = new WeakMap<ActiveQuota, PeriodBounds>();
function periodOf(quota: ActiveQuota, nowMs: number): PeriodBounds {
  const known = periods.get(quota);
  if (known !== undefined && known.startMs <= nowMs && nowMs < known.endMs) return known;
  const period = currentPeriod(quota, nowMs);
  periods.set(quota, period);
  return period;
}

/** The windows and quotas that apply to one request. */
export interface PlannedLimits {
  plan: WindowPlan;
  quotas: AppliedQuota[];
}

/** Everything that applies to one request, and the limiter's answer. */
export interface Admission {
  /**
   * Who was decided for: the caller, or (when its organization's limits had changed) the
   * same key as Postgres holds it now, with its current permissions and windows.
   */
  principal: Principal;
  plan: WindowPlan;
  /** The windows counted (plan.enforced), in the order of result.windows. */
  windows: AppliedWindow[];
  quotas: AppliedQuota[];
  result: LimiterResult;
  nowMs: number;
}

/** The quota with the least left after this request (the one that stops the key first). */
export function tightestQuota(
  admission: Admission,
): { applied: AppliedQuota; state: QuotaState } | undefined {
  let tightest: { applied: AppliedQuota; state: QuotaState } | undefined;
  admission.quotas.forEach((applied, j) => {
    const state = admission.result.quotas[j];
    if (
      state !== undefined &&
      (tightest === undefined || state.remaining < tightest.state.remaining)
    )
      tightest = { applied, state };
  });
  return tightest;
}

/**
 * The limit that refused a request, as its usage record keeps it (usage_logs.limit_type,
 * limit_value, current_usage): the deciding window, or the quota.
 */
export interface LimitRefusal {
  /** The window (second, minute, hour, day) or `quota`. */
  limit_type: WindowName | 'quota';
  limit_value: number;
  /** What was counted against the limit when it refused (a refusal consumes nothing). */
  current_usage: number;
}

/** The limit that refused the request, or null when it was admitted. */
export function refusalOf({ result, windows, quotas }: Admission): LimitRefusal | null {
  if (result.outcome === 'rate_limited') {
    const window = windows[result.deciding];
    const state = result.windows[result.deciding];
    if (window === undefined || state === undefined) return null;
    return {
      limit_type: window.window,
      limit_value: window.limit,
      current_usage: window.limit - state.remaining,
    };
  }
  if (result.outcome === 'over_quota') {
    const applied = quotas[result.decidingQuota];
    const state = result.quotas[result.decidingQuota];
    if (applied === undefined || state === undefined) return null;
    return {
      limit_type: 'quota',
      limit_value: applied.quota.maxRequests,
      current_usage: state.used,
    };
  }
  return null;
}

/** What a key acts as now, as Postgres holds it (undefined: the key is gone). */
export type KeyReader = (
  organizationId: string,
  keyId: string,
) => Promise<ApiKeyPrincipal | undefined>;

/** Attempts that check the limits' generation; one more runs on what was read by then. */
const CHECKED_ATTEMPTS = 2;

export interface LimitedCall {
  /** The route template (`/api/v1/users/:id`), for endpoint policies (empty: none apply). */
  route: string;
  cost: number;
}

/**
 * The rate-limit decision for a principal: which windows and quotas apply (the key's, the
 * endpoint's, and the organization's one set: its own, its tier's or the global one; the
 * key's and its organization's quotas), one limiter round trip, and the
 * quota events (warning, exceeded) it produces. The guard, /keys/verify and
 * /rate-limits/explain all go through here.
 */
@Injectable()
export class RequestLimiter {
  private readonly logger = new Logger('RateLimit');
  /** Organization id -> the generation of its limits this process last read in full. */
  private readonly generations = new Map<string, number>();
  /** Re-reads in flight, by organization or key. */
  private readonly rereads = new Map<string, { generation: number; read: Promise<unknown> }>();
  private keys: KeyReader | undefined;

  constructor(
    private readonly limiter: Limiter,
    private readonly config: RateLimitConfig,
    private readonly policies: PolicyStore,
    private readonly organizations: OrganizationLimitsStore,
    private readonly quotaStore: QuotaStore,
    private readonly events: LimitEventRecorder,
  ) {}

  /**
   * The windows and quotas that apply to the principal on this route now: at once when its
   * organization's limits are cached (every request but the first), else once they are read.
   */
  plan(principal: Principal, route: string, nowMs: number): PlannedLimits | Promise<PlannedLimits> {
    const found = this.organizations.limitsOf(principal.organizationId, nowMs);
    return found instanceof Promise
      ? found.then((organization) => this.planFor(principal, route, nowMs, organization))
      : this.planFor(principal, route, nowMs, found);
  }

  private planFor(
    principal: Principal,
    route: string,
    nowMs: number,
    organization: OrganizationLimits | undefined,
  ): PlannedLimits {
    const plan = windowsFor(principal, route, this.policies.snapshot, organization);
    const quotas =
      principal.type === 'api_key'
        ? this.quotaStore
            .forKey(principal.organizationId, principal.keyId)
            .map((quota) => ({ quota, period: periodOf(quota, nowMs) }))
        : [];
    return { plan, quotas };
  }

  /** The set the organization's windows come from now (the ceiling of its keys' windows). */
  async organizationSet(organizationId: string): Promise<OrganizationSet> {
    return organizationSet(
      this.policies.snapshot,
      await this.organizations.limitsOf(organizationId),
    );
  }

  /**
   * Decides and counts one request. Null when the limiter is unavailable and
   * RATE_LIMIT_FAILURE_MODE is `open` (admit); a 503 when it is `closed`.
   */
  async admit(principal: Principal, call: LimitedCall): Promise<Admission | null> {
    let admission: Admission;
    try {
      // A limiter call not answered within RATE_LIMIT_TIMEOUT_MS throws.
      admission = await this.decide(principal, call.route, call.cost, false);
    } catch (error) {
      admitUncounted(this.config, this.logger, error, 'the request');
      return null;
    }
    this.recordQuotaEvents(principal, admission);
    if (admission.result.outcome === 'rate_limited') void this.recordWindowRefusal(admission);
    return admission;
  }

  /** Reads every counter that applies, consuming nothing (503 when Redis is unavailable). */
  async peek(principal: Principal, route: string): Promise<Admission> {
    try {
      return await this.decide(principal, route, 1, true);
    } catch {
      throw CommonErrors.unavailable('Rate limiting is unavailable; retry shortly');
    }
  }

  /** Where a key is read from again when its organization's limits changed. */
  readKeysWith(reader: KeyReader): void {
    this.keys = reader;
  }

  /**
   * Plans and checks. An API key's call carries the generation of its organization's limits
   * this process read; when a change was written since (on any process), the limiter counts
   * nothing and this re-reads the organization's quotas and plan and the key's own windows
   * from Postgres, then tries again. So a change holds from the request after its answer.
   */
  private async decide(
    principal: Principal,
    route: string,
    cost: number,
    peek: boolean,
  ): Promise<Admission> {
    const nowMs = Date.now();
    let current = principal;
    for (let attempt = 1; ; attempt += 1) {
      const planned = this.plan(current, route, nowMs);
      const { plan, quotas } = planned instanceof Promise ? await planned : planned;
      const windows = plan.enforced;
      const generation =
        current.type === 'api_key' && attempt <= CHECKED_ATTEMPTS
          ? (this.generations.get(current.organizationId) ?? -1)
          : undefined;
      try {
        const result = await this.check(current, windows, quotas, cost, peek, generation);
        return { principal: current, plan, windows, quotas, result, nowMs };
      } catch (error) {
        if (!(error instanceof StaleLimits) || current.type !== 'api_key') throw error;
        current = await this.reread(current, error.generation);
      }
    }
  }

  /**
   * Re-reads what an API key's request is limited by, once per organization (and key) and
   * generation however many requests found it stale together: the organization's quotas and
   * plan, and the key itself (its windows and permissions; the permissions guard, after this,
   * checks the fresh ones). The generation is recorded only when every read succeeded: a
   * failed one is tried again by the next request. A key gone since keeps the caller's copy:
   * its revocation marker refuses it.
   */
  private async reread(principal: ApiKeyPrincipal, generation: number): Promise<ApiKeyPrincipal> {
    const { organizationId, keyId } = principal;
    const [organizationRead, key] = await Promise.all([
      this.once(`organization:${organizationId}`, generation, async () => {
        const [quotas, plan] = await Promise.all([
          this.quotaStore.refresh(organizationId),
          this.organizations.refresh(organizationId),
        ]);
        return quotas && plan;
      }),
      this.once(`key:${keyId}`, generation, async () => {
        try {
          return await this.keys?.(organizationId, keyId);
        } catch (error) {
          this.logger.warn(`could not re-read key ${keyId}: ${String(error)}`);
          return null;
        }
      }),
    ]);
    if (organizationRead && key !== null) {
      const known = this.generations.get(organizationId) ?? -1;
      if (generation > known) this.generations.set(organizationId, generation);
    }
    return key ?? principal;
  }

  /** Runs `read` for `id` unless a read for this generation or a later one is in flight. */
  private once<T>(id: string, generation: number, read: () => Promise<T>): Promise<T> {
    const inFlight = this.rereads.get(id) as { generation: number; read: Promise<T> } | undefined;
    if (inFlight !== undefined && inFlight.generation >= generation) return inFlight.read;
    const entry = { generation, read: read() };
    this.rereads.set(id, entry);
    const done = () => {
      if (this.rereads.get(id) === entry) this.rereads.delete(id);
    };
    entry.read.then(done, done);
    return entry.read;
  }

  private check(
    principal: Principal,
    windows: AppliedWindow[],
    quotas: AppliedQuota[],
    cost: number,
    peek: boolean,
    generation: number | undefined,
  ): Promise<LimiterResult> {
    const { tag, subject } = limiterSubject(principal);
    return this.limiter.check({
      tag,
      subject,
      windows,
      quotas: quotas.map(({ quota, period }) => ({
        id: quota.id,
        max: quota.maxRequests,
        periodStartMs: period.startMs,
        periodEndMs: period.endMs,
      })),
      cost,
      peek,
      generation,
    });
  }

  /**
   * A key's window refusing for the first time in its (aligned) window is a rate_limit.exceeded
   * event: one Redis SET NX per refusal, after the refusal, never a Postgres write here.
   */
  private async recordWindowRefusal(admission: Admission): Promise<void> {
    const { principal, result, windows, nowMs } = admission;
    const refusal = refusalOf(admission);
    const window = windows[result.deciding];
    const state = result.windows[result.deciding];
    if (principal.type !== 'api_key' || refusal === null || !window || !state) return;
    const windowStartMs = nowMs - (nowMs % window.windowMs);
    try {
      const first = await this.limiter.firstWindowRefusal(
        principal.organizationId,
        principal.keyId,
        window.windowMs,
        windowStartMs,
      );
      if (!first) return;
    } catch (error) {
      this.logger.warn({ msg: 'rate_limit.exceeded not recorded', error: String(error) });
      return;
    }
    this.events.windowRefused({
      organization_id: principal.organizationId,
      type: 'rate_limit.exceeded',
      payload: {
        api_key_id: principal.keyId,
        ...refusal,
        window_start: new Date(windowStartMs).toISOString(),
        resets_at: new Date(state.resetMs).toISOString(),
        occurred_at: new Date(nowMs).toISOString(),
      },
    });
  }

  /**
   * A quota crossing its warning threshold, or refusing for the first time in its period,
   * is an event for webhooks. (Refusals themselves are read from the usage log: the
   * request's usage record carries its LimitRefusal.)
   */
  private recordQuotaEvents(principal: Principal, admission: Admission): void {
    const { result, quotas, nowMs } = admission;
    quotas.forEach(({ quota, period }, j) => {
      const state = result.quotas[j];
      if (state === undefined || (!state.crossedWarning && !state.firstRefusal)) return;
      this.events.quota({
        organization_id: principal.organizationId,
        type: state.firstRefusal ? 'quota.exceeded' : 'quota.warning',
        payload: {
          quota_id: quota.id,
          api_key_id: quota.apiKeyId,
          period: quota.period,
          max_requests: quota.maxRequests,
          used: state.used,
          period_start: new Date(period.startMs).toISOString(),
          resets_at: new Date(period.endMs).toISOString(),
          occurred_at: new Date(nowMs).toISOString(),
        },
      });
    });
  }
}
