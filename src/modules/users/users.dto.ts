import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
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
import { PageQuery } from '../../common/pagination.js';
import { ROLES, type Role } from '../../common/permissions.js';

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
    description: 'Without one, the user cannot log in until it is set',
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
    description: 'Needs members:write; owner needs admin',
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

/** PUT: the whole user; optional fields left out are cleared (the password is kept). */
export class ReplaceUserDto extends CreateUserDto {}

/** PATCH: only the fields sent change. */
/** PATCH: only the fields sent change (null clears full_name or telegram_chat_id). */
export class UpdateUserDto extends PartialType(CreateUserDto) {}

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

export class BatchCreateUsersDto {
  @ApiProperty({ type: [CreateUserDto], minItems: 1, maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
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

  @ApiPropertyOptional({ nullable: true })
  details: unknown;
}

export class BatchItemResult {
  @ApiProperty({ example: 0 })
  index: number;

  @ApiProperty({ example: 201, description: 'The status this item would have had on its own' })
  status: number;

  @ApiPropertyOptional({ type: UserResponse })
  data?: UserResponse;

  @ApiPropertyOptional({ type: BatchItemError })
  error?: BatchItemError;
}
