import { Injectable } from '@nestjs/common';
import { type FieldError, CommonErrors } from '../../common/app-error.js';
import { type Page, page } from '../../common/envelope.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { rejectNulls } from '../../common/validation.js';
import { Limiter } from '../rate-limit/limiter.js';
import { type Quota } from './quota.entity.js';
import { currentPeriod } from './quota-period.js';
import { QuotaStore, scheduleOf } from './quota-store.js';
import type {
  CreateQuotaDto,
  QuotaFieldsDto,
  QuotaListQuery,
  QuotaResponse,
  UpdateQuotaDto,
} from './quotas.dto.js';
import { QuotaErrors } from './quotas.errors.js';
import { type NewQuota, type QuotaChanges, QuotasRepository } from './quotas.repository.js';

/** Per key, and per organization: each one is a counter in every request's limiter call. */
const MAX_QUOTAS_PER_SUBJECT = 10;
const MIN_CUSTOM_PERIOD_MS = 60_000;

function toDate(value: string | null | undefined): Date | null {
  return value === null || value === undefined ? null : new Date(value);
}

/** period_start/period_end belong to custom periods, and only there (400 otherwise). */
export function checkSchedule(
  schedule: { period: string; periodStart: Date | null; periodEnd: Date | null },
  fieldPrefix = '',
): void {
  const errors: FieldError[] = [];
  if (schedule.period === 'custom') {
    if (schedule.periodStart === null)
      errors.push({ field: 'period_start', message: 'period_start is required for custom' });
    if (schedule.periodEnd === null)
      errors.push({ field: 'period_end', message: 'period_end is required for custom' });
    if (
      schedule.periodStart !== null &&
      schedule.periodEnd !== null &&
      schedule.periodEnd.getTime() - schedule.periodStart.getTime() < MIN_CUSTOM_PERIOD_MS
    ) {
      errors.push({
        field: 'period_end',
        message: 'period_end must be at least one minute after period_start',
      });
    }
  } else {
    for (const [field, value] of [
      ['period_start', schedule.periodStart],
      ['period_end', schedule.periodEnd],
    ] as const) {
      if (value !== null)
        errors.push({
          field,
          message: `${field} is only for custom periods (daily and monthly follow the UTC calendar)`,
        });
    }
  }
  if (errors.length > 0)
    throw CommonErrors.validation(errors.map((e) => ({ ...e, field: fieldPrefix + e.field })));
}

/**
 * A quota's schedule and size from its fields, checked before anything is written (also for
 * `quota` when creating a key; `fieldPrefix` names the fields there).
 */
export function quotaInput(fields: QuotaFieldsDto, fieldPrefix = ''): Omit<NewQuota, 'apiKeyId'> {
  const periodStart = toDate(fields.period_start);
  const periodEnd = toDate(fields.period_end);
  checkSchedule({ period: fields.period, periodStart, periodEnd }, fieldPrefix);
  return { period: fields.period, maxRequests: fields.max_requests, periodStart, periodEnd };
}

@Injectable()
export class QuotasService {
  constructor(
    private readonly quotas: QuotasRepository,
    private readonly store: QuotaStore,
    private readonly limiter: Limiter,
  ) {}

  async list(ctx: AuthenticatedContext, query: QuotaListQuery): Promise<Page<QuotaResponse>> {
    const filter = query.api_key_id === undefined ? {} : { apiKeyId: query.api_key_id };
    const [rows, total] = await this.quotas.list(tenantOf(ctx), filter, query);
    return page(await this.withUsage(rows), total, query);
  }

  async get(ctx: AuthenticatedContext, id: string): Promise<QuotaResponse> {
    const quota = await this.quotas.findById(tenantOf(ctx), id);
    if (quota === null) throw QuotaErrors.notFound();
    const [response] = await this.withUsage([quota]);
    return response;
  }

  async create(ctx: AuthenticatedContext, dto: CreateQuotaDto): Promise<QuotaResponse> {
    // IsOptional lets null through: a null key id must not become an organization-wide quota.
    rejectNulls(dto, ['api_key_id', 'organization_id']);
    if ((dto.api_key_id === undefined) === (dto.organization_id === undefined)) {
      throw CommonErrors.validation([
        { field: 'api_key_id', message: 'give exactly one of api_key_id and organization_id' },
      ]);
    }
    if (dto.organization_id !== undefined && dto.organization_id !== ctx.principal.organizationId) {
      throw QuotaErrors.organizationNotFound();
    }
    return this.createFor(ctx, dto.api_key_id ?? null, dto);
  }

  /** A quota for one key (also used when a key is created with `quota`), or the organization. */
  async createFor(
    ctx: AuthenticatedContext,
    apiKeyId: string | null,
    fields: QuotaFieldsDto,
  ): Promise<QuotaResponse> {
    const scope = tenantOf(ctx);
    const input = quotaInput(fields);
    if (apiKeyId !== null && !(await this.quotas.keyExists(scope, apiKeyId)))
      throw QuotaErrors.keyNotFound();
    if ((await this.quotas.countFor(scope, apiKeyId)) >= MAX_QUOTAS_PER_SUBJECT)
      throw QuotaErrors.tooMany();
    const quota = await this.quotas.create(scope, ctx, { ...input, apiKeyId });
    await this.store.changed(scope.organizationId);
    return this.get(ctx, quota.id);
  }

  /** A key's `quota` checked before the key is written (its row is written with the key). */
  inputForNewKey(fields: QuotaFieldsDto): Omit<NewQuota, 'apiKeyId'> {
    return quotaInput(fields, 'quota.');
  }

  /** After a key was created with a quota: every process learns of it, and the caller sees it. */
  async createdWithKey(ctx: AuthenticatedContext, quotaId: string): Promise<QuotaResponse> {
    await this.store.changed(tenantOf(ctx).organizationId);
    return this.get(ctx, quotaId);
  }

  /** Changing max_requests keeps the period's count; a new schedule counts from its period's start. */
  async update(ctx: AuthenticatedContext, id: string, dto: UpdateQuotaDto): Promise<QuotaResponse> {
    rejectNulls(dto, ['period', 'max_requests']);
    const scope = tenantOf(ctx);
    await this.quotas.update(scope, ctx, id, (before) => {
      const period = dto.period ?? before.period;
      // Leaving custom drops its bounds unless the body says otherwise.
      const keepBounds = period === 'custom';
      const periodStart =
        dto.period_start !== undefined
          ? toDate(dto.period_start)
          : keepBounds
            ? before.periodStart
            : null;
      const periodEnd =
        dto.period_end !== undefined
          ? toDate(dto.period_end)
          : keepBounds
            ? before.periodEnd
            : null;
      checkSchedule({ period, periodStart, periodEnd });
      const changes: QuotaChanges = { period, periodStart, periodEnd };
      if (dto.max_requests !== undefined) changes.maxRequests = dto.max_requests;
      return changes;
    });
    await this.store.changed(scope.organizationId);
    return this.get(ctx, id);
  }

  async remove(ctx: AuthenticatedContext, id: string): Promise<void> {
    const scope = tenantOf(ctx);
    await this.quotas.remove(scope, ctx, id);
    await this.store.changed(scope.organizationId);
  }

  /** Responses with the current period's count, read from the limiter's counters (one round trip). */
  private async withUsage(quotas: Quota[]): Promise<QuotaResponse[]> {
    if (quotas.length === 0) return [];
    const now = Date.now();
    const periods = quotas.map((quota) => currentPeriod(scheduleOf(quota), now));
    const counts = await this.limiter
      .quotaUsage(
        quotas.map((quota, i) => ({
          organizationId: quota.organizationId,
          id: quota.id,
          periodStartMs: periods[i]?.startMs ?? 0,
        })),
      )
      .catch(() => {
        throw CommonErrors.unavailable('Quota usage is unavailable; retry shortly');
      });
    return quotas.map((quota, i) => {
      const used = Number(counts[i] ?? 0);
      const period = periods[i] ?? { startMs: now, endMs: now };
      return {
        id: quota.id,
        organization_id: quota.organizationId,
        api_key_id: quota.apiKeyId,
        period: quota.period,
        max_requests: quota.maxRequests,
        period_start: quota.periodStart?.toISOString() ?? null,
        period_end: quota.periodEnd?.toISOString() ?? null,
        current_period_start: new Date(period.startMs).toISOString(),
        used,
        remaining: Math.max(quota.maxRequests - used, 0),
        resets_at: new Date(period.endMs).toISOString(),
        created_at: quota.createdAt.toISOString(),
        updated_at: quota.updatedAt.toISOString(),
      };
    });
  }
}
