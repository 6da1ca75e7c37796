import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  MaxLength,
  Validate,
  ValidateNested,
  type ValidatorConstraintInterface,
  ValidatorConstraint,
} from 'class-validator';
import { ApiInteger, INT32_MAX, IntRange } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD, maxLengthOf } from '../../common/openapi-bounds.js';
import { ERROR_CODES } from '../../common/app-error.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { PERMISSIONS, type Permission } from '../../common/permissions.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { QuotaFieldsDto, QuotaResponse } from '../quota/quotas.dto.js';
import { LIMIT_MAX } from '../rate-limit/policy-set.js';
import { parseCidr } from './ip-allowlist.js';
import { DISPLAY_PREFIX_LENGTH, SECRET_LENGTH } from './key-secret.js';

/** `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128`, the longest address or range. */
const CIDR_MAX_LENGTH = 49;
const MAX_ALLOWED_IPS = 100;
const MAX_KEY_RATE_LIMITS = 8;

export const WINDOWS = ['second', 'minute', 'hour', 'day'] as const;
export const ALGORITHMS = ['sliding_window', 'token_bucket'] as const;

@ValidatorConstraint({ name: 'cidr' })
class IsCidr implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseCidr(value) !== null;
  }

  defaultMessage(): string {
    return 'each allowed_ips entry must be an IPv4 or IPv6 address or CIDR range';
  }
}

@ValidatorConstraint({ name: 'oneLimitPerWindow' })
class OneLimitPerWindow implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (!Array.isArray(value)) return true;
    const windows = value.map((limit: { window?: unknown }) => limit?.window);
    return new Set(windows).size === windows.length;
  }

  defaultMessage(): string {
    return 'rate_limits may hold one limit per window';
  }
}

export class RateLimitDto {
  @ApiProperty({ enum: WINDOWS, example: 'minute' })
  @IsIn(WINDOWS)
  window: (typeof WINDOWS)[number];

  @ApiProperty({ example: 100 })
  @IntRange(1, LIMIT_MAX)
  limit: number;

  @ApiPropertyOptional({ enum: ALGORITHMS, default: 'sliding_window' })
  @IsOptional()
  @IsIn(ALGORITHMS)
  algorithm?: (typeof ALGORITHMS)[number];
}

class KeyFieldsDto {
  @ApiPropertyOptional({ example: 'Billing service', description: 'Optional on PATCH' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({ example: 'Calls the invoices API', nullable: true })
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  description?: string | null;

  @ApiProperty({ enum: PERMISSIONS, isArray: true, example: ['users:read', 'projects:read'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(PERMISSIONS.length)
  @IsIn(PERMISSIONS, { each: true })
  permissions: Permission[];

  @ApiPropertyOptional({ type: [String], example: ['203.0.113.0/24', '2001:db8::/32'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_ALLOWED_IPS)
  @MaxLength(CIDR_MAX_LENGTH, { each: true })
  @Validate(IsCidr, { each: true })
  allowed_ips?: string[];

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00.000Z', nullable: true })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string | null;

  @ApiPropertyOptional({ type: [RateLimitDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_KEY_RATE_LIMITS)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Validate(OneLimitPerWindow)
  @Type(() => RateLimitDto)
  rate_limits?: RateLimitDto[];
}

@ApiRequestExample<CreateKeyDto>({
  name: 'Billing service',
  description: 'Calls the invoices API',
  environment: 'live',
  permissions: ['users:read', 'projects:read'],
  rate_limits: [{ window: 'minute', limit: 60 }],
  quota: { period: 'monthly', max_requests: 100_000 },
})
export class CreateKeyDto extends KeyFieldsDto {
  @ApiProperty({ enum: ['live', 'test'] })
  @IsIn(['live', 'test'])
  environment: 'live' | 'test';

  @ApiPropertyOptional({
    example: 42,
    nullable: true,
    description: 'Bind the key to one project (null or left out: no project)',
  })
  @IsOptional()
  @IntRange(1, INT32_MAX)
  project_id?: number | null;

  @ApiPropertyOptional({
    type: QuotaFieldsDto,
    nullable: true,
    description:
      'A quota for this key, created with it (see /api/v1/quotas); null or left out: none',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuotaFieldsDto)
  quota?: QuotaFieldsDto | null;
}

/** PUT: name, description, permissions, allowed_ips, expires_at and limits replaced. */
@ApiRequestExample<ReplaceKeyDto>({
  name: 'Billing service',
  description: 'Calls the invoices API',
  permissions: ['users:read', 'projects:read'],
  rate_limits: [{ window: 'minute', limit: 60 }],
})
export class ReplaceKeyDto extends KeyFieldsDto {}

/** PATCH: the same fields as PUT, each optional; only those sent change. */
@ApiRequestExample<UpdateKeyDto>({ name: 'Billing service (EU)' })
export class UpdateKeyDto extends PartialType(ReplaceKeyDto) {}

@ApiRequestExample<RotateKeyDto>({ grace_period_seconds: 3600 })
export class RotateKeyDto {
  @ApiPropertyOptional({
    example: 3600,
    description: 'How long the old secret keeps working',
  })
  @IsOptional()
  @IntRange(0, 7 * 86_400)
  grace_period_seconds?: number;
}

export class KeyResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty({ example: 'Billing service', ...maxLengthOf(CreateKeyDto, 'name') })
  name: string;

  @ApiProperty({ nullable: true, type: String, ...maxLengthOf(CreateKeyDto, 'description') })
  description: string | null;

  @ApiProperty({ enum: ['live', 'test'] })
  environment: 'live' | 'test';

  @ApiProperty({
    example: 'sk_live_3kQ9aZ',
    description: 'The start of the secret, for recognising it',
    maxLength: DISPLAY_PREFIX_LENGTH,
  })
  prefix: string;

  @ApiProperty(UUID_FIELD)
  organization_id: string;

  @ApiProperty({ nullable: true })
  @ApiInteger(1, INT32_MAX)
  project_id: number | null;

  @ApiProperty({ enum: PERMISSIONS, isArray: true, maxItems: PERMISSIONS.length })
  permissions: string[];

  @ApiProperty({
    type: [String],
    maxItems: MAX_ALLOWED_IPS,
    items: { type: 'string', maxLength: CIDR_MAX_LENGTH },
  })
  allowed_ips: string[];

  @ApiProperty({ ...TIMESTAMP_FIELD, nullable: true, type: String })
  expires_at: string | null;

  @ApiProperty({ type: [RateLimitDto], maxItems: MAX_KEY_RATE_LIMITS })
  rate_limits: RateLimitDto[];

  @ApiProperty({ enum: ['active', 'revoked', 'expired'] })
  status: 'active' | 'revoked' | 'expired';

  @ApiProperty({ ...TIMESTAMP_FIELD, nullable: true, type: String })
  last_used_at: string | null;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}

export class KeyWithSecretResponse extends KeyResponse {
  @ApiProperty({
    example: 'sk_live_...',
    description: 'The secret: shown only in this response',
    maxLength: SECRET_LENGTH,
  })
  key: string;

  @ApiPropertyOptional({
    type: QuotaResponse,
    nullable: true,
    description: 'The quota created with the key (creation only)',
  })
  quota?: QuotaResponse | null;
}

@ApiRequestExample<VerifyKeyDto>({ key: 'sk_live_...', cost: 1, permissions: ['users:read'] })
export class VerifyKeyDto {
  @ApiProperty({ example: 'sk_live_...', description: 'The key your own API received' })
  @IsString()
  @Length(1, 200)
  key: string;

  @ApiPropertyOptional({
    example: 1,
    default: 1,
    description: 'How many requests this counts for',
  })
  @IsOptional()
  @IntRange(1, 1_000)
  cost?: number;

  @ApiPropertyOptional({
    enum: PERMISSIONS,
    isArray: true,
    description: 'Permissions the key must hold',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(PERMISSIONS.length)
  @IsIn(PERMISSIONS, { each: true })
  permissions?: Permission[];
}

export class VerifyRateLimit {
  @ApiProperty({ example: 100 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  limit: number;

  @ApiProperty({ example: 99 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  remaining: number;

  @ApiProperty({ example: 1767225600, description: 'Unix seconds' })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  reset: number;
}

export class VerifyQuota {
  @ApiProperty(UUID_FIELD)
  quota_id: string;

  @ApiProperty({ example: 1000 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  limit: number;

  @ApiProperty({ example: 120 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  used: number;

  @ApiProperty({ example: 880 })
  @ApiInteger(0, Number.MAX_SAFE_INTEGER)
  remaining: number;

  @ApiProperty({ ...TIMESTAMP_FIELD, example: '2026-12-01T00:00:00.000Z' })
  resets_at: string;
}

export class VerifyKeyResponse {
  @ApiProperty({ example: true })
  valid: boolean;

  @ApiPropertyOptional({
    enum: ERROR_CODES,
    example: 'RATE_LIMIT_EXCEEDED',
    description: 'Why the key would have been refused',
  })
  code?: string;

  @ApiProperty({ ...UUID_FIELD, nullable: true, type: String })
  key_id: string | null;

  @ApiProperty({ ...UUID_FIELD, nullable: true, type: String })
  organization_id: string | null;

  @ApiProperty({ enum: PERMISSIONS, isArray: true, maxItems: PERMISSIONS.length })
  permissions: string[];

  @ApiProperty({ type: VerifyRateLimit, nullable: true })
  ratelimit: VerifyRateLimit | null;

  @ApiProperty({
    nullable: true,
    type: VerifyQuota,
    description: 'The quota with the least left, when the key (or its organization) has one',
  })
  quota: VerifyQuota | null;
}
