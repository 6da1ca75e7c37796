import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  PartialType,
  getSchemaPath,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { ERROR_DETAILS_PROPERTY } from '../../common/error-response.dto.js';
import { ApiInteger } from '../../common/int-range.js';
import { PageQuery } from '../../common/pagination.js';
import { ROLES, type Role } from '../../common/permissions.js';
import { InvitationResponse } from '../organizations/organizations.dto.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,64}$/;

export class CreateUserDto {
  @ApiProperty({ example: 'ada', pattern: USERNAME_PATTERN.source })
  @Matches(USERNAME_PATTERN, { message: 'username must be 3-64 letters, digits, _ . or -' })
  username: string;

  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiPropertyOptional({
    minLength: 8,
    maxLength: 128,
    description:
      'For a new account only (users only: an API key may not set one). Without one, the user cannot log in until an administrator issues a reset',
  })
  @IsOptional()
  @IsString()
  @Length(8, 128)
  password?: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  full_name?: string | null;

  @ApiPropertyOptional({
    enum: ROLES,
    default: 'member',
    description:
      'Needs members:write and a user token (API keys cannot grant roles); not above your rank; owner needs an owner',
  })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({
    example: '123456789',
    description: 'Telegram chat that receives error alerts',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  telegram_chat_id?: string | null;
}

const ACCOUNT_FIELD =
  "The account holder's: accepted only unchanged (else 403 PERMISSION_DENIED); the holder changes it through PATCH /api/v1/auth/me";

/**
 * PUT: replaces what the organization owns of a user: the role and, for an account that
 * belongs to no other organization, full_name and telegram_chat_id (left out: cleared).
 * username and email may be sent unchanged (so a GET body can be sent back); a password never.
 */
export class ReplaceUserDto {
  @ApiProperty({
    enum: ROLES,
    example: 'member',
    description: 'Changing it needs members:write; not above your rank; owner needs an owner',
  })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({
    example: 'Ada Lovelace',
    maxLength: 200,
    nullable: true,
    type: String,
    description: 'Only for an account in no other organization (else 403)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  full_name?: string | null;

  @ApiPropertyOptional({
    example: '123456789',
    nullable: true,
    type: String,
    description:
      'Telegram chat that receives error alerts; only for an account in no other organization (else 403)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  telegram_chat_id?: string | null;

  @ApiPropertyOptional({ description: ACCOUNT_FIELD })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  username?: string;

  @ApiPropertyOptional({ description: ACCOUNT_FIELD })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({
    description:
      'Always refused (403 PERMISSION_DENIED): the holder changes it through PATCH /api/v1/auth/me, or an administrator issues a reset (POST /users/{id}/password-reset)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;
}

/** PATCH: only the fields sent change (null clears full_name or telegram_chat_id). */
export class UpdateUserDto extends PartialType(ReplaceUserDto) {}

export class PasswordResetResponse {
  @ApiProperty({
    example: 'prt_Jx3...',
    description: 'Shown once; give it to the account holder. Single use, valid 1 hour',
  })
  reset_token: string;

  @ApiProperty({ example: '2026-01-01T01:00:00.000Z' })
  expires_at: string;
}

export class UserListQuery extends PageQuery {
  @ApiPropertyOptional({
    example: 'ada@example.com',
    description: 'Exact email (case-insensitive)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: 'ada', description: 'Substring of username, email or full name' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;
}

/** Users one batch call creates at most (API.md: batch operations take 100 items). */
export const MAX_BATCH_USERS = 100;

export class BatchCreateUsersDto {
  @ApiProperty({ type: [CreateUserDto], minItems: 1, maxItems: MAX_BATCH_USERS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_USERS)
  @Type(() => Object)
  users: unknown[];
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ada' })
  username: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ example: 'Ada Lovelace', nullable: true, type: String })
  full_name: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  telegram_chat_id: string | null;

  @ApiProperty({ enum: ROLES, description: "The user's role in the caller's organization" })
  role: Role;

  @ApiProperty({ example: false })
  is_platform_admin: boolean;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  created_at: string;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  updated_at: string;
}

export class BatchItemError {
  @ApiProperty({ example: 'VALIDATION_ERROR' })
  code: string;

  @ApiProperty({ example: 'Request validation failed' })
  message: string;

  @ApiProperty(ERROR_DETAILS_PROPERTY)
  details: unknown;
}

@ApiExtraModels(UserResponse, InvitationResponse)
export class BatchItemResult {
  @ApiProperty({ example: 0 })
  @ApiInteger(0, MAX_BATCH_USERS - 1)
  index: number;

  @ApiProperty({
    example: 201,
    description:
      'The status this item would have had on its own: 201 created, 202 invitation of an existing account, or an error',
  })
  @ApiInteger(200, 599)
  status: number;

  @ApiPropertyOptional({
    oneOf: [{ $ref: getSchemaPath(UserResponse) }, { $ref: getSchemaPath(InvitationResponse) }],
    description: 'The created user (201), or the invitation of an existing account (202)',
  })
  data?: UserResponse | InvitationResponse;

  @ApiPropertyOptional({ type: BatchItemError })
  error?: BatchItemError;
}
