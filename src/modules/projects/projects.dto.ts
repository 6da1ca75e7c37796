import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { ApiInteger, INT32_MAX } from '../../common/int-range.js';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLUG_MESSAGE =
  'slug must be 1-63 lowercase letters, digits or -, starting with a letter or digit';

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
}

/** PATCH: only the fields sent change (null clears platform). */
export class UpdateProjectDto extends PartialType(ReplaceProjectDto) {}

export class ProjectResponse {
  @ApiProperty({ example: 42, description: 'Positive integer (Sentry DSNs need one)' })
  @ApiInteger(1, INT32_MAX)
  id: number;

  @ApiProperty({ format: 'uuid' })
  organization_id: string;

  @ApiProperty({ example: 'Checkout service' })
  name: string;

  @ApiProperty({ example: 'checkout' })
  slug: string;

  @ApiProperty({ example: 'node', nullable: true, type: String })
  platform: string | null;

  @ApiProperty({ example: '5f0c8a3e9b1d4c7e8f2a6b3c9d0e1f2a' })
  public_key: string;

  @ApiProperty({
    example: 'http://5f0c8a3e9b1d4c7e8f2a6b3c9d0e1f2a@localhost:3000/42',
    description: 'For Sentry SDKs',
  })
  dsn: string;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  created_at: string;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  updated_at: string;
}
