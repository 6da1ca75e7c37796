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
import {
  TIMESTAMP_FIELD,
  UUID_FIELD,
  maxLengthOf,
  patternMaxLength,
} from '../../common/openapi-bounds.js';
import { ROLES, type Role } from '../../common/permissions.js';
import { ApiRequestExample } from '../../common/request-example.js';
import type { PolicySet } from '../rate-limit/rate-limit-setting.entity.js';
import { WINDOW_POLICY } from '../rate-limit/rate-limits.dto.js';
import {
  EMAIL_MAX_LENGTH,
  FULL_NAME_MAX_LENGTH,
  USERNAME_PATTERN,
} from '../users/account-fields.js';
import { TIERS, type Tier } from './organization.entity.js';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLUG_MESSAGE =
  'slug must be 1-63 lowercase letters, digits or -, starting with a letter or digit';

@ApiRequestExample<CreateOrganizationDto>({ name: 'Analytical Engines Ltd' })
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

@ApiRequestExample<ReplaceOrganizationDto>({
  name: 'Analytical Engines Ltd',
  slug: 'analytical-engines',
})
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
    description:
      'Platform administrators only: the organization\'s own rate-limit set (window -> {limit, algorithm?}, e.g. {"minute": {"limit": 5000}}), which replaces its tier\'s set whole; null clears it (back to the tier\'s). Not in the example, which any owner can send',
  })
  @IsOptional()
  @IsObject()
  rate_limits?: Record<string, unknown> | null;
}

/** PATCH: only the fields sent change. */
@ApiRequestExample<UpdateOrganizationDto>({ name: 'Analytical Engines' })
export class UpdateOrganizationDto extends PartialType(ReplaceOrganizationDto) {}

const NAME = maxLengthOf(CreateOrganizationDto, 'name');
const SLUG_LENGTH = maxLengthOf(CreateOrganizationDto, 'slug');

export class OrganizationResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty({ example: 'Analytical Engines Ltd', ...NAME })
  name: string;

  @ApiProperty({ example: 'analytical-engines', ...SLUG_LENGTH })
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

  @ApiProperty({
    enum: ROLES,
    nullable: true,
    description:
      "The caller's role in it; null when the caller is a platform administrator who is not a member",
  })
  role: Role | null;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}

@ApiRequestExample<AddMemberDto>({ email: 'ada@example.com', role: 'member' })
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
  @MaxLength(EMAIL_MAX_LENGTH)
  email?: string;

  @ApiProperty({ enum: ROLES, example: 'member' })
  @IsIn(ROLES)
  role: Role;
}

@ApiRequestExample<ChangeMemberRoleDto>({ role: 'admin' })
export class ChangeMemberRoleDto {
  @ApiProperty({ enum: ROLES, example: 'member' })
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

export const MEMBER_STATUSES = ['active', 'invited'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/**
 * A member, or a pending invitation (`status: "invited"`). An invited account's own data is
 * not shown before it accepts: only its id, the email the inviter typed (if any) and the role.
 */
export class MemberResponse {
  @ApiProperty(UUID_FIELD)
  user_id: string;

  @ApiProperty({ enum: MEMBER_STATUSES, example: 'active' })
  status: MemberStatus;

  @ApiProperty({
    example: 'ada',
    nullable: true,
    type: String,
    description: 'null while invited',
    maxLength: patternMaxLength(USERNAME_PATTERN),
  })
  username: string | null;

  @ApiProperty({
    example: 'ada@example.com',
    nullable: true,
    type: String,
    description: 'While invited: the email the inviter typed, or null when invited by user_id',
    maxLength: EMAIL_MAX_LENGTH,
  })
  email: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null while invited',
    maxLength: FULL_NAME_MAX_LENGTH,
  })
  full_name: string | null;

  @ApiProperty({ enum: ROLES, description: 'The role held, or offered by the invitation' })
  role: Role;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    nullable: true,
    type: String,
    description: 'null while invited',
  })
  joined_at: string | null;

  @ApiProperty({ ...UUID_FIELD, nullable: true, type: String, description: 'Invited only' })
  invitation_id: string | null;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-08T00:00:00.000Z',
    nullable: true,
    type: String,
    description: 'When the invitation lapses (invited only)',
  })
  expires_at: string | null;
}

/**
 * An invitation of an existing account to an organization: a membership once the account
 * holder accepts it (`POST /auth/invitations/{id}/accept`), nothing once declined or expired.
 */
export class InvitationResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty(UUID_FIELD)
  organization_id: string;

  @ApiProperty({ example: 'Analytical Engines Ltd', ...NAME })
  organization_name: string;

  @ApiProperty({ ...UUID_FIELD, description: 'The invited account' })
  user_id: string;

  @ApiProperty({
    example: 'ada@example.com',
    nullable: true,
    type: String,
    description: 'The email the inviter typed, or null when invited by user_id',
    maxLength: EMAIL_MAX_LENGTH,
  })
  email: string | null;

  @ApiProperty({ enum: ROLES, description: 'The role the membership will have' })
  role: Role;

  @ApiProperty({ enum: ['invited'], example: 'invited' })
  status: 'invited';

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-08T00:00:00.000Z',
    description: '7 days after creation',
  })
  expires_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;
}

/** The membership an accepted invitation became. */
export class AcceptedInvitationResponse {
  @ApiProperty(UUID_FIELD)
  organization_id: string;

  @ApiProperty({ example: 'Analytical Engines Ltd', ...NAME })
  organization_name: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty(TIMESTAMP_FIELD)
  joined_at: string;
}
