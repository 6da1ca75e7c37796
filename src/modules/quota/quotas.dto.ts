import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { ApiInteger, IntRange } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD } from '../../common/openapi-bounds.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { PageQuery } from '../../common/pagination.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { QUOTA_PERIODS, type QuotaPeriod } from './quota-period.js';

/** Far below 2^53, so counts stay exact as numbers. */
export const MAX_QUOTA = 1_000_000_000_000;

/** A quota's schedule and size: the body of POST, and `quota` when creating a key. */
export class QuotaFieldsDto {
  @ApiProperty({
    enum: QUOTA_PERIODS,
    example: 'monthly',
    description:
      'daily and monthly are UTC calendar days and months; custom repeats period_end - period_start back to back from period_start',
  })
  @IsIn(QUOTA_PERIODS)
  period: QuotaPeriod;

  @ApiProperty({ example: 100_000 })
  @IntRange(1, MAX_QUOTA)
  max_requests: number;

  @ApiPropertyOptional({
    example: '2026-11-15T00:00:00.000Z',
    description: 'custom only (required there): the first period starts here',
  })
  @IsOptional()
  @IsTimestamp()
  period_start?: string;

  @ApiPropertyOptional({
    example: '2026-12-15T00:00:00.000Z',
    description: 'custom only (required there): the first period ends here',
  })
  @IsOptional()
  @IsTimestamp()
  period_end?: string;
}

@ApiRequestExample<CreateQuotaDto>({
  organization_id: '3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70',
  period: 'monthly',
  max_requests: 100_000,
})
export class CreateQuotaDto extends QuotaFieldsDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The key this quota limits (give this or organization_id)',
  })
  @IsOptional()
  @IsUUID()
  api_key_id?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      "The credential's own organization: the quota counts every API key of it (give this or api_key_id)",
  })
  @IsOptional()
  @IsUUID()
  organization_id?: string;
}

/** PATCH: any of the schedule fields; null clears period_start/period_end (leaving custom). */
@ApiRequestExample<UpdateQuotaDto>({ max_requests: 200_000 })
export class UpdateQuotaDto {
  @ApiPropertyOptional({ enum: QUOTA_PERIODS })
  @IsOptional()
  @IsIn(QUOTA_PERIODS)
  period?: QuotaPeriod;

  @ApiPropertyOptional({ example: 200_000 })
  @IsOptional()
  @IntRange(1, MAX_QUOTA)
  max_requests?: number;

  @ApiPropertyOptional({ nullable: true, type: String, example: '2026-11-15T00:00:00.000Z' })
  @IsOptional()
  @IsTimestamp()
  period_start?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: '2026-12-15T00:00:00.000Z' })
  @IsOptional()
  @IsTimestamp()
  period_end?: string | null;
}

export class QuotaListQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: "Only this key's quotas" })
  @IsOptional()
  @IsUUID()
  api_key_id?: string;
}

export class QuotaResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty(UUID_FIELD)
  organization_id: string;

  @ApiProperty({
    ...UUID_FIELD,
    nullable: true,
    type: String,
    description: 'null: an organization-wide quota',
  })
  api_key_id: string | null;

  @ApiProperty({ enum: QUOTA_PERIODS })
  period: QuotaPeriod;

  @ApiProperty({ example: 100_000 })
  @ApiInteger(1, MAX_QUOTA)
  max_requests: number;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    nullable: true,
    type: String,
    description: 'custom periods only',
  })
  period_start: string | null;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    nullable: true,
    type: String,
    description: 'custom periods only',
  })
  period_end: string | null;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-11-01T00:00:00.000Z',
    description: 'The current period began',
  })
  current_period_start: string;

  @ApiProperty({ example: 1_234, description: 'Requests counted in the current period' })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  used: number;

  @ApiProperty({ example: 98_766 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  remaining: number;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-12-01T00:00:00.000Z',
    description: 'The current period ends',
  })
  resets_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}
