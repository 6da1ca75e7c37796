import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { ApiInteger } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD } from '../../common/openapi-bounds.js';
import { WINDOWS } from '../keys/keys.dto.js';
import { QUOTA_PERIODS } from '../quota/quota-period.js';

export class ExplainQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Explain this API key (keys:read)' })
  @IsOptional()
  @IsUUID()
  api_key_id?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "Explain this user's bearer-token requests (users:read)",
  })
  @IsOptional()
  @IsUUID()
  user_id?: string;

  @ApiPropertyOptional({
    example: '/api/v1/users',
    description: "Include the organization's override for this route template",
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @Matches(/^\/api\//, { message: 'endpoint must be a route such as /api/v1/users' })
  endpoint?: string;
}

export class ExplainedPolicy {
  @ApiProperty({
    enum: ['key', 'endpoint', 'organization', 'tier', 'global', 'quota'],
    description:
      "Which set the window comes from: the key's own, the organization's endpoint override, the organization's one set (its own, its tier's or the global one), or a quota",
  })
  source: 'key' | 'endpoint' | 'organization' | 'tier' | 'global' | 'quota';

  @ApiProperty({
    enum: [...WINDOWS, ...QUOTA_PERIODS],
    example: 'minute',
    description: 'second, minute, hour or day; for a quota its period (daily, monthly, custom)',
  })
  window: string;

  @ApiProperty({ enum: ['sliding_window', 'token_bucket', 'quota'] })
  algorithm: string;

  @ApiProperty({ example: 100 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  limit: number;

  @ApiProperty({ example: 42, description: 'What the next requests may still use' })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  remaining: number;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-11-25T12:01:00.000Z',
    description: 'When the next unit frees',
  })
  reset_at: string;

  @ApiPropertyOptional({ ...UUID_FIELD, description: 'Quotas only' })
  quota_id?: string;
}

export class ExplainResponse {
  @ApiProperty({ type: [ExplainedPolicy] })
  policies: ExplainedPolicy[];

  @ApiProperty({
    type: ExplainedPolicy,
    nullable: true,
    description:
      'The policy that would decide the next request: the one that would refuse it, else the one with the smallest share left',
  })
  deciding: ExplainedPolicy | null;

  @ApiProperty({
    enum: ['admitted', 'rate_limited', 'over_quota', 'revoked'],
    description: 'What the next request would get',
  })
  next_request: string;
}
