import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { UUID_FIELD, maxLengthOf, patternMaxLength } from '../../common/openapi-bounds.js';
import { PERMISSIONS, ROLES, type Role } from '../../common/permissions.js';
import { ApiInteger, INT32_MAX } from '../../common/int-range.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { CreateKeyDto } from '../keys/keys.dto.js';
import { CreateOrganizationDto } from '../organizations/organizations.dto.js';
import {
  EMAIL_MAX_LENGTH,
  FULL_NAME_MAX_LENGTH,
  TELEGRAM_CHAT_ID_MAX_LENGTH,
  USERNAME_MESSAGE,
  USERNAME_PATTERN,
} from '../users/account-fields.js';
import { UserResponse } from '../users/users.dto.js';
import { ACCESS_TOKEN_MAX_LENGTH } from './access-token.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.js';

@ApiRequestExample<RegisterDto>({
  username: 'ada',
  email: 'ada@example.com',
  password: 'correct horse battery',
})
export class RegisterDto {
  @ApiProperty({ example: 'ada', pattern: USERNAME_PATTERN.source })
  @Matches(USERNAME_PATTERN, { message: USERNAME_MESSAGE })
  username: string;

  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(EMAIL_MAX_LENGTH)
  email: string;

  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  password: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace' })
  @IsOptional()
  @IsString()
  @Length(1, FULL_NAME_MAX_LENGTH)
  full_name?: string;

  @ApiPropertyOptional({
    example: 'Analytical Engines Ltd',
    description: 'Defaults to "<username>\'s organization"',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  organization_name?: string;
}

@ApiRequestExample<LoginDto>({ login: 'ada', password: 'correct horse battery' })
export class LoginDto {
  @ApiPropertyOptional({ example: 'ada' })
  @IsOptional()
  @IsString()
  @Length(1, 254)
  username?: string;

  @ApiPropertyOptional({ example: 'ada@example.com' })
  @IsOptional()
  @IsString()
  @Length(1, 254)
  email?: string;

  @ApiPropertyOptional({ example: 'ada', description: 'Username or email' })
  @IsOptional()
  @IsString()
  @Length(1, 254)
  login?: string;

  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @Length(1, 1024)
  password: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "The organization to act in; defaults to the user's first",
  })
  @IsOptional()
  @IsUUID('all')
  organization_id?: string;
}

/**
 * PATCH /auth/me: the account holder's own changes (every field optional; null clears
 * full_name or telegram_chat_id). A new email or password needs the current password.
 */
@ApiRequestExample<UpdateMeDto>({ full_name: 'Ada Lovelace', telegram_chat_id: '123456789' })
export class UpdateMeDto {
  @ApiPropertyOptional({ example: 'ada', pattern: USERNAME_PATTERN.source })
  @IsOptional()
  @Matches(USERNAME_PATTERN, { message: USERNAME_MESSAGE })
  username?: string;

  @ApiPropertyOptional({ example: 'ada@example.com', description: 'Needs current_password' })
  @IsOptional()
  @IsEmail()
  @MaxLength(EMAIL_MAX_LENGTH)
  email?: string;

  @ApiPropertyOptional({
    example: 'a new long passphrase',
    description:
      "Needs current_password; ends the account's other sessions (this token's session stays)",
  })
  @IsOptional()
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  password?: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace', nullable: true, type: String })
  @IsOptional()
  @IsString()
  @Length(1, FULL_NAME_MAX_LENGTH)
  full_name?: string | null;

  @ApiPropertyOptional({
    example: '123456789',
    nullable: true,
    type: String,
    description: 'Telegram chat that receives error alerts',
  })
  @IsOptional()
  @IsString()
  @Length(1, TELEGRAM_CHAT_ID_MAX_LENGTH)
  telegram_chat_id?: string | null;

  @ApiPropertyOptional({
    example: 'correct horse battery',
    description:
      'Required with email or password; a wrong one is 401 and counts toward the login throttle',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  current_password?: string;
}

@ApiRequestExample<CompletePasswordResetDto>({
  reset_token: 'prt_Jx3...',
  new_password: 'a new long passphrase',
})
export class CompletePasswordResetDto {
  @ApiProperty({ example: 'prt_Jx3...', description: 'From POST /users/{id}/password-reset' })
  @IsString()
  @Length(1, 512)
  reset_token: string;

  @ApiProperty({ example: 'a new long passphrase' })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH)
  new_password: string;
}

@ApiRequestExample<RefreshDto>({ refresh_token: 'rt_2Yk...' })
export class RefreshDto {
  @ApiProperty({ example: 'rt_...' })
  @IsString()
  @Length(1, 512)
  refresh_token: string;
}

export class TokenResponse {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsImtpZCI6...', maxLength: ACCESS_TOKEN_MAX_LENGTH })
  access_token: string;

  @ApiProperty({ example: 'rt_2Yk...', ...maxLengthOf(RefreshDto, 'refresh_token') })
  refresh_token: string;

  @ApiProperty({ example: 'bearer', enum: ['bearer'] })
  token_type: 'bearer';

  @ApiProperty({ example: 900, description: 'Seconds until the access token expires' })
  @ApiInteger(1, INT32_MAX)
  expires_in: number;

  @ApiProperty({ type: UserResponse })
  user: UserResponse;
}

export class MembershipSummary {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty({ example: 'Analytical Engines Ltd', ...maxLengthOf(CreateOrganizationDto, 'name') })
  name: string;

  @ApiProperty({ enum: ROLES })
  role: Role;
}

export class MeResponse {
  @ApiProperty({ enum: ['user', 'api_key'] })
  type: 'user' | 'api_key';

  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiPropertyOptional({ example: 'ada', maxLength: patternMaxLength(USERNAME_PATTERN) })
  username?: string;

  @ApiPropertyOptional({ example: 'ada@example.com', maxLength: EMAIL_MAX_LENGTH })
  email?: string;

  @ApiPropertyOptional({ nullable: true, type: String, maxLength: FULL_NAME_MAX_LENGTH })
  full_name?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: String,
    description: 'Users only',
    maxLength: TELEGRAM_CHAT_ID_MAX_LENGTH,
  })
  telegram_chat_id?: string | null;

  @ApiProperty({ ...UUID_FIELD, description: "The credential's organization" })
  organization_id: string;

  @ApiPropertyOptional({ enum: ROLES })
  role?: Role;

  @ApiPropertyOptional({
    example: 'Billing service',
    description: 'API keys only',
    ...maxLengthOf(CreateKeyDto, 'name'),
  })
  name?: string;

  @ApiPropertyOptional({ nullable: true, description: 'API keys only' })
  @ApiInteger(1, INT32_MAX)
  project_id?: number | null;

  @ApiPropertyOptional({ enum: ['live', 'test'], description: 'API keys only' })
  environment?: 'live' | 'test';

  @ApiProperty({ enum: PERMISSIONS, isArray: true, maxItems: PERMISSIONS.length })
  permissions: string[];

  @ApiPropertyOptional({ type: [MembershipSummary] })
  organizations?: MembershipSummary[];
}
