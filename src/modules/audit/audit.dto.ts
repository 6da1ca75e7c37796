import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { TIMESTAMP_FIELD, UUID_FIELD } from '../../common/openapi-bounds.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { PageQuery } from '../../common/pagination.js';
import { IP_MAX_LENGTH, USER_AGENT_MAX_LENGTH } from '../../common/request-context.js';
import { REQUEST_ID_MAX_LENGTH } from '../../common/request-id.js';
import {
  AUDIT_ACTIONS,
  AUDIT_ACTOR_TYPES,
  AUDIT_PARTY_ID_MAX_LENGTH,
  AUDIT_TARGET_TYPES,
  type AuditAction,
} from './audit-actions.js';

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: '7d1e...', description: 'A user id or API key id' })
  @IsOptional()
  @IsString()
  @Length(1, AUDIT_PARTY_ID_MAX_LENGTH)
  actor_id?: string;

  @ApiPropertyOptional({
    enum: AUDIT_ACTIONS,
    example: 'user.updated',
    description: 'Only entries of this action; any other value is a 400 listing them',
  })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  @ApiPropertyOptional({ example: 'user' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  target_type?: string;

  @ApiPropertyOptional({ example: '7d1e...' })
  @IsOptional()
  @IsString()
  @Length(1, AUDIT_PARTY_ID_MAX_LENGTH)
  target_id?: string;

  @ApiPropertyOptional({ example: '2026-01-01T00:00:00.000Z', description: 'Inclusive' })
  @IsOptional()
  @IsTimestamp()
  start_date?: string;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00.000Z', description: 'Exclusive' })
  @IsOptional()
  @IsTimestamp()
  end_date?: string;
}

export class AuditParty {
  @ApiProperty({
    enum: [...new Set([...AUDIT_ACTOR_TYPES, ...AUDIT_TARGET_TYPES])],
    example: 'user',
    description: `An actor is ${AUDIT_ACTOR_TYPES.join(', ')}; a target ${AUDIT_TARGET_TYPES.join(', ')}`,
  })
  type: string;

  @ApiProperty({ nullable: true, type: String, maxLength: AUDIT_PARTY_ID_MAX_LENGTH })
  id: string | null;
}

export class AuditEntryResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty({ enum: AUDIT_ACTIONS, example: 'user.updated' })
  action: string;

  @ApiProperty({ type: AuditParty })
  actor: AuditParty;

  @ApiProperty({ type: AuditParty, nullable: true })
  target: AuditParty | null;

  @ApiProperty({ ...UUID_FIELD, nullable: true, type: String })
  organization_id: string | null;

  @ApiProperty({ example: '203.0.113.7', nullable: true, type: String, maxLength: IP_MAX_LENGTH })
  ip: string | null;

  @ApiProperty({ nullable: true, type: String, maxLength: USER_AGENT_MAX_LENGTH })
  user_agent: string | null;

  @ApiProperty({ nullable: true, type: String, maxLength: REQUEST_ID_MAX_LENGTH })
  request_id: string | null;

  @ApiProperty({
    nullable: true,
    type: 'object',
    example: { email: { from: 'a@example.com', to: 'b@example.com' } },
    additionalProperties: true,
  })
  changes: object | null;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;
}
