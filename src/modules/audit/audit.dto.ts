import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { IsTimestamp } from '../../common/timestamp.js';
import { PageQuery } from '../../common/pagination.js';
import { AUDIT_ACTIONS, type AuditAction } from './audit-actions.js';

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: '7d1e...', description: 'A user id or API key id' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
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
  @Length(1, 100)
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
  @ApiProperty({ example: 'user' })
  type: string;

  @ApiProperty({ nullable: true, type: String })
  id: string | null;
}

export class AuditEntryResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'user.updated' })
  action: string;

  @ApiProperty({ type: AuditParty })
  actor: AuditParty;

  @ApiProperty({ type: AuditParty, nullable: true })
  target: AuditParty | null;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  organization_id: string | null;

  @ApiProperty({ example: '203.0.113.7', nullable: true, type: String })
  ip: string | null;

  @ApiProperty({ nullable: true, type: String })
  user_agent: string | null;

  @ApiProperty({ nullable: true, type: String })
  request_id: string | null;

  @ApiProperty({
    nullable: true,
    type: 'object',
    example: { email: { from: 'a@example.com', to: 'b@example.com' } },
    additionalProperties: true,
  })
  changes: object | null;

  @ApiProperty({ example: '2026-01-01T00:00:00.000Z' })
  created_at: string;
}
