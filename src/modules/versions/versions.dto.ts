import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUrl, Length, Matches } from 'class-validator';
import { TIMESTAMP_FIELD, maxLengthOf } from '../../common/openapi-bounds.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { VERSION_STATUSES, type VersionStatus } from './api-version.entity.js';

const HTTP_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

/** `:version` of a version route: `v1`, `v2`... anything else is a 400. */
export class VersionParam {
  @ApiProperty({ example: 'v1', pattern: '^v[0-9]+$' })
  @Matches(/^v[0-9]{1,9}$/, { message: 'version must be v followed by a number, e.g. v1' })
  version: string;
}

@ApiRequestExample<CreateVersionDto>({
  version: 'v2',
  status: 'beta',
  description: 'Cursor pagination everywhere',
  changelog: '- Lists use cursor pagination',
})
export class CreateVersionDto {
  @ApiProperty({ example: 'v2', pattern: '^v[0-9]+$' })
  @IsString()
  @Matches(/^v[0-9]{1,9}$/, { message: 'version must be v followed by a number, e.g. v2' })
  version: string;

  @ApiProperty({ enum: VERSION_STATUSES, example: 'beta' })
  @IsIn(VERSION_STATUSES)
  status: VersionStatus;

  @ApiPropertyOptional({ example: 'Cursor pagination everywhere', nullable: true, type: String })
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  description?: string | null;

  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00.000Z',
    nullable: true,
    type: String,
    description: 'Defaults to now unless the status is beta',
  })
  @IsOptional()
  @IsTimestamp()
  released_at?: string | null;

  @ApiPropertyOptional({
    example: '2026-06-01T00:00:00.000Z',
    nullable: true,
    type: String,
    description: 'From then on, responses carry Deprecation (and Sunset, Link) headers',
  })
  @IsOptional()
  @IsTimestamp()
  deprecated_at?: string | null;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00.000Z',
    nullable: true,
    type: String,
    description: 'From then on, requests to the version are refused with 410 API_VERSION_SUNSET',
  })
  @IsOptional()
  @IsTimestamp()
  sunset_date?: string | null;

  @ApiPropertyOptional({
    example: 'https://docs.example.com/migrate-to-v2',
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsUrl(HTTP_URL, { message: 'migration_guide_url must be an http(s) URL' })
  @Length(1, 2000)
  migration_guide_url?: string | null;

  @ApiPropertyOptional({ example: '- Lists use cursor pagination', nullable: true, type: String })
  @IsOptional()
  @IsString()
  @Length(0, 100_000)
  changelog?: string | null;
}

/** PATCH: every field but the version itself, each optional; only those sent change. */
@ApiRequestExample<UpdateVersionDto>({
  description: 'The first version of the Gatehouse API',
  migration_guide_url: 'https://docs.example.com/migrate-to-v2',
})
export class UpdateVersionDto extends PartialType(OmitType(CreateVersionDto, ['version'])) {}

export class VersionResponse {
  @ApiProperty({ example: 'v1', ...maxLengthOf(CreateVersionDto, 'version') })
  version: string;

  @ApiProperty({ enum: VERSION_STATUSES, example: 'stable' })
  status: VersionStatus;

  @ApiProperty({ nullable: true, type: String, ...maxLengthOf(CreateVersionDto, 'description') })
  description: string | null;

  @ApiProperty({ ...TIMESTAMP_FIELD, nullable: true, type: String })
  released_at: string | null;

  @ApiProperty({ ...TIMESTAMP_FIELD, nullable: true, type: String })
  deprecated_at: string | null;

  @ApiProperty({ ...TIMESTAMP_FIELD, nullable: true, type: String })
  sunset_date: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    ...maxLengthOf(CreateVersionDto, 'migration_guide_url'),
  })
  migration_guide_url: string | null;

  @ApiProperty({ nullable: true, type: String, ...maxLengthOf(CreateVersionDto, 'changelog') })
  changelog: string | null;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}
