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
import { TIMESTAMP_FIELD, UUID_FIELD, patternMaxLength } from '../../common/openapi-bounds.js';
import { PageQuery } from '../../common/pagination.js';
import { ERROR_CODES, ERROR_MESSAGE_MAX_LENGTH } from '../../common/app-error.js';
import { ROLES, type Role } from '../../common/permissions.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../auth/password-policy.js';
import { InvitationResponse } from '../organizations/organizations.dto.js';
import {
  EMAIL_MAX_LENGTH,
  FULL_NAME_MAX_LENGTH,
  TELEGRAM_CHAT_ID_MAX_LENGTH,
  USERNAME_MESSAGE,
  USERNAME_PATTERN,
} from './account-fields.js';

/** Random bytes of a password-reset token, which is `prt_` and their base64url. */
export const RESET_TOKEN_BYTES = 32;
const PASSWORD_RESET_TOKEN_LENGTH = 'prt_'.length + Math.ceil((RESET_TOKEN_BYTES * 4) / 3);

@ApiRequestExample<CreateUserDto>({
  username: 'grace',
  email: 'grace@example.com',
  full_name: 'Grace Hopper',
  role: 'member',
})
export class CreateUserDto {
  @ApiProperty({ example: 'ada', pattern: USERNAME_PATTERN.source })
  @Matches(USERNAME_PATTERN, { message: USERNAME_MESSAGE })
  username: string;

  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(EMAIL_MAX_LENGTH)
  email: string;

  @ApiPropertyOptional({
    description:
      'For a new account only (users only: an API key may not set one). Without one, the user cannot log in until an administrator issues a reset',
  })
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  password?: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @Length(1, FULL_NAME_MAX_LENGTH)
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
  @Length(1, TELEGRAM_CHAT_ID_MAX_LENGTH)
  telegram_chat_id?: string | null;
}

const ACCOUNT_FIELD =
  "The account holder's: accepted only unchanged (else 403 PERMISSION_DENIED); the holder changes it through PATCH /api/v1/auth/me";

/**
 * PUT: replaces what the organization owns of a user: the role and, for an account that
 * belongs to no other organization, full_name and telegram_chat_id (left out: cleared).
 * username and email may be sent unchanged (so a GET body can be sent back); a password never.
 */
@ApiRequestExample<ReplaceUserDto>({
  role: 'member',
  full_name: 'Grace Hopper',
  telegram_chat_id: null,
})
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
    nullable: true,
    type: String,
    description: 'Only for an account in no other organization (else 403)',
  })
  @IsOptional()
  @IsString()
  @Length(1, FULL_NAME_MAX_LENGTH)
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
  @Length(1, TELEGRAM_CHAT_ID_MAX_LENGTH)
  telegram_chat_id?: string | null;

  @ApiPropertyOptional({ description: ACCOUNT_FIELD })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  username?: string;

  @ApiPropertyOptional({ description: ACCOUNT_FIELD })
  @IsOptional()
  @IsString()
  @MaxLength(EMAIL_MAX_LENGTH)
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
@ApiRequestExample<UpdateUserDto>({ full_name: 'Grace Brewster Hopper' })
export class UpdateUserDto extends PartialType(ReplaceUserDto) {}

export class PasswordResetResponse {
  @ApiProperty({
    example: 'prt_Jx3...',
    description: 'Shown once; give it to the account holder. Single use, valid 1 hour',
    maxLength: PASSWORD_RESET_TOKEN_LENGTH,
  })
  reset_token: string;

  @ApiProperty({ ...TIMESTAMP_FIELD, example: '2026-01-01T01:00:00.000Z' })
  expires_at: string;
}

export class UserListQuery extends PageQuery {
  @ApiPropertyOptional({
    example: 'ada@example.com',
    description: 'Exact email (case-insensitive)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(EMAIL_MAX_LENGTH)
  email?: string;

  @ApiPropertyOptional({ example: 'ada', description: 'Substring of username, email or full name' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  q?: string;
}

/** Users one batch call creates at most (API.md: batch operations take 100 items). */
export const MAX_BATCH_USERS = 100;

@ApiRequestExample<BatchCreateUsersDto>({
  users: [
    { username: 'alan', email: 'alan@example.com', full_name: 'Alan Turing' },
    { username: 'edsger', email: 'edsger@example.com', role: 'viewer' },
  ],
})
export class BatchCreateUsersDto {
  @ApiProperty({ type: [CreateUserDto], minItems: 1, maxItems: MAX_BATCH_USERS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_USERS)
  @Type(() => Object)
  users: unknown[];
}

export class UserResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty({ example: 'ada', maxLength: patternMaxLength(USERNAME_PATTERN) })
  username: string;

  @ApiProperty({ example: 'ada@example.com', maxLength: EMAIL_MAX_LENGTH })
  email: string;

  @ApiProperty({
    example: 'Ada Lovelace',
    nullable: true,
    type: String,
    maxLength: FULL_NAME_MAX_LENGTH,
  })
  full_name: string | null;

  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    maxLength: TELEGRAM_CHAT_ID_MAX_LENGTH,
  })
  telegram_chat_id: string | null;

  @ApiProperty({ enum: ROLES, description: "The user's role in the caller's organization" })
  role: Role;

  @ApiProperty({ example: false })
  is_platform_admin: boolean;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}

export class BatchItemError {
  @ApiProperty({ enum: ERROR_CODES, example: 'VALIDATION_ERROR' })
  code: string;

  @ApiProperty({ example: 'Request validation failed', maxLength: ERROR_MESSAGE_MAX_LENGTH })
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
