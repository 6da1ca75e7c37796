import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { ApiInteger, INT32_MAX, IntRange } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD, maxLengthOf } from '../../common/openapi-bounds.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { PUBLIC_URL_MAX_LENGTH } from '../../config/env.js';
import { INGEST_LIMIT_MAX, INGEST_WINDOWS } from './ingest-rate-limit.js';
import type { IngestWindow } from './project.entity.js';

/** Hex characters of a project's public key (the DSN's user part). */
export const PUBLIC_KEY_LENGTH = 32;

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLUG_MESSAGE =
  'slug must be 1-63 lowercase letters, digits or -, starting with a letter or digit';

@ApiRequestExample<CreateProjectDto>({ name: 'Checkout service', platform: 'node' })
export class CreateProjectDto {
  @ApiProperty({ example: 'Checkout service' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({
    example: 'node',
    description: 'The SDK platform (node, python, javascript, ...)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  platform?: string;

  @ApiPropertyOptional({
    example: 'checkout',
    description: 'Unique in the organization; generated when left out',
  })
  @IsOptional()
  @Matches(SLUG, { message: SLUG_MESSAGE })
  slug?: string;
}

const INGEST_DESCRIPTION =
  'At most `limit` Sentry envelopes in any rolling `window` (POST /api/{project_id}/envelope/; ' +
  'over it: 429 with Retry-After and X-Sentry-Rate-Limits). Left out on PUT, or null on PATCH: ' +
  'the default, 1,000 per minute.';

export class IngestRateLimitDto {
  @ApiProperty({ enum: INGEST_WINDOWS, example: 'minute' })
  @IsIn(INGEST_WINDOWS)
  window: IngestWindow;

  @ApiProperty({ example: 600 })
  @IntRange(1, INGEST_LIMIT_MAX)
  limit: number;
}

@ApiRequestExample<ReplaceProjectDto>({
  name: 'Checkout service',
  platform: 'node',
  slug: 'checkout',
})
export class ReplaceProjectDto {
  @ApiProperty({ example: 'Checkout service' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({ example: 'node', description: 'Cleared when left out' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  platform?: string | null;

  @ApiProperty({ example: 'checkout' })
  @Matches(SLUG, { message: SLUG_MESSAGE })
  slug: string;

  @ApiPropertyOptional({
    type: IngestRateLimitDto,
    nullable: true,
    description: INGEST_DESCRIPTION,
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => IngestRateLimitDto)
  ingest_rate_limit?: IngestRateLimitDto | null;
}

/** PATCH: only the fields sent change (null clears platform, and restores the default ingest limit). */
@ApiRequestExample<UpdateProjectDto>({
  platform: 'python',
  ingest_rate_limit: { window: 'minute', limit: 600 },
})
export class UpdateProjectDto extends PartialType(ReplaceProjectDto) {}

export class ProjectResponse {
  @ApiProperty({ example: 42, description: 'Positive integer (Sentry DSNs need one)' })
  @ApiInteger(1, INT32_MAX)
  id: number;

  @ApiProperty(UUID_FIELD)
  organization_id: string;

  @ApiProperty({ example: 'Checkout service', ...maxLengthOf(CreateProjectDto, 'name') })
  name: string;

  @ApiProperty({ example: 'checkout', ...maxLengthOf(CreateProjectDto, 'slug') })
  slug: string;

  @ApiProperty({
    example: 'node',
    nullable: true,
    type: String,
    ...maxLengthOf(CreateProjectDto, 'platform'),
  })
  platform: string | null;

  @ApiProperty({ example: '5f0c8a3e9b1d4c7e8f2a6b3c9d0e1f2a', maxLength: PUBLIC_KEY_LENGTH })
  public_key: string;

  @ApiProperty({
    example: 'http://5f0c8a3e9b1d4c7e8f2a6b3c9d0e1f2a@localhost:3000/42',
    description: 'For Sentry SDKs',
    // PUBLIC_URL with `{public_key}@` and `/{project_id}` added.
    maxLength: PUBLIC_URL_MAX_LENGTH + PUBLIC_KEY_LENGTH + '@/'.length + String(INT32_MAX).length,
  })
  dsn: string;

  @ApiProperty({
    type: IngestRateLimitDto,
    description: "The limit that applies: the project's own, else the default (1,000 per minute)",
  })
  ingest_rate_limit: IngestRateLimitDto;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}
