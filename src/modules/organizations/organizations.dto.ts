import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsEmail,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { ROLES, type Role } from '../../common/permissions.js';
import type { PolicySet } from '../rate-limit/rate-limit-setting.entity.js';
import { WINDOW_POLICY } from '../rate-limit/rate-limits.dto.js';
import { TIERS, type Tier } from './organization.entity.js';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLUG_MESSAGE =
  'slug must be 1-63 lowercase letters, digits or -, starting with a letter or digit';

export class CreateOrganizationDto {
  @ApiProperty({ example: 'Analytical Engines Ltd' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({
    example: 'analytical-engines',
    description: 'Generated from the name when left out',
  })
  @IsOptional()
  @Matches(SLUG, { message: SLUG_MESSAGE })
  slug?: string;
}

export class ReplaceOrganizationDto {
  @ApiProperty({ example: 'Analytical Engines Ltd' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ example: 'analytical-engines' })
  @Matches(SLUG, { message: SLUG_MESSAGE })
  slug: string;

  @ApiPropertyOptional({ enum: TIERS, description: 'Platform administrators only' })
  @IsOptional()
  @IsIn(TIERS)
  tier?: Tier;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: WINDOW_POLICY,
    nullable: true,
    example: { minute: { limit: 5000 }, hour: { limit: 100000, algorithm: 'sliding_window' } },
    description:
      "Platform administrators only: the organization's own rate-limit set (window -> {limit, algorithm?}), which replaces its tier's set whole; null clears it (back to the tier's)",
  })
  @IsOptional()
  @IsObject()
  rate_limits?: Record<string, unknown> | null;
}

/** PATCH: only the fields sent change. */
export class UpdateOrganizationDto extends PartialType(ReplaceOrganizationDto) {}

export class OrganizationResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'Analytical Engines Ltd' })
  name: string;

  @ApiProperty({ example: 'analytical-engines' })
  slug: string;

  @ApiProperty({ enum: TIERS })
  tier: Tier;

  @ApiProperty({
    type: 'object',
    additionalProperties: WINDOW_POLICY,
    nullable: true,
    example: null,
    description: "The organization's own rate-limit set, or null when its tier's set applies",
  })
  rate_limits: PolicySet | null;

  @ApiProperty({ enum: ROLES, description: "The caller's role in it" })
  role: Role;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  created_at: string;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  updated_at: string;
}

export class AddMemberDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The user to add (or give email)' })
  @ValidateIf((dto: AddMemberDto) => dto.email === undefined || dto.user_id !== undefined)
  @IsUUID('all')
  user_id?: string;

  @ApiPropertyOptional({
    example: 'ada@example.com',
    description: 'The user to add (or give user_id)',
  })
  @ValidateIf((dto: AddMemberDto) => dto.user_id === undefined || dto.email !== undefined)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class ChangeMemberRoleDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;
}

export class MemberParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  user_id: string;
}

export class MemberResponse {
  @ApiProperty({ format: 'uuid' })
  user_id: string;

  @ApiProperty({ example: 'ada' })
  username: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ nullable: true, type: String })
  full_name: string | null;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  joined_at: string;
}
