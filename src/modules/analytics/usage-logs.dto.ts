import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { INT32_MAX } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD } from '../../common/openapi-bounds.js';
import { PageQuery } from '../../common/pagination.js';
import { IP_MAX_LENGTH, USER_AGENT_MAX_LENGTH } from '../../common/request-context.js';
import { REQUEST_ID_MAX_LENGTH } from '../../common/request-id.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { METHOD_MAX_LENGTH, ROUTE_MAX_LENGTH, UsageFilters, text } from './analytics.dto.js';

/** URLs are at most 8 KB (414 above). */
const PATH_MAX_LENGTH = 8192;

/** `GET /usage-logs`: the raw log's range and filters, paginated. */
export class UsageLogsQuery extends IntersectionType(PageQuery, UsageFilters) {
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00.000Z', description: 'Inclusive' })
  @IsOptional()
  @IsTimestamp()
  start_date?: string;

  @ApiPropertyOptional({
    example: '2026-01-02T00:00:00.000Z',
    description: 'Exclusive; after start_date when both are given (400 otherwise)',
  })
  @IsOptional()
  @IsTimestamp()
  end_date?: string;

  @ApiPropertyOptional({ example: 'GET' })
  @IsOptional()
  @IsString()
  @Length(1, METHOD_MAX_LENGTH)
  method?: string;

  @ApiPropertyOptional({ example: '0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11' })
  @IsOptional()
  @IsString()
  @Length(1, REQUEST_ID_MAX_LENGTH)
  request_id?: string;
}

const uuid = (nullable: boolean) => ApiProperty({ ...UUID_FIELD, type: String, nullable });

export class UsageLogResponse {
  @uuid(false)
  id: string;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-01T00:00:00.000Z',
    description: 'When the request arrived',
  })
  created_at: string;

  @text(METHOD_MAX_LENGTH, 'GET')
  method: string;

  @text(PATH_MAX_LENGTH, '/api/v1/keys/0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11')
  path: string;

  @text(ROUTE_MAX_LENGTH, '/api/v1/keys/:id')
  route: string;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 100,
    maximum: 599,
    example: 200,
    description: "The answer's status; 499: the client closed the connection before it",
  })
  status: number;

  @ApiProperty({
    type: 'number',
    minimum: 0,
    example: 12.5,
    description: 'ms, from arrival to the end of the response',
  })
  response_time: number;

  @ApiProperty({ type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX, example: 0 })
  request_bytes: number;

  @ApiProperty({ type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX, example: 512 })
  response_bytes: number;

  @text(IP_MAX_LENGTH, '203.0.113.7', true)
  ip: string | null;

  @text(USER_AGENT_MAX_LENGTH, 'billing-service/1.4', true)
  user_agent: string | null;

  @uuid(true)
  api_key_id: string | null;

  @uuid(true)
  user_id: string | null;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    nullable: true,
    minimum: 1,
    maximum: INT32_MAX,
    example: null,
  })
  project_id: number | null;

  @text(16, 'v1', true)
  api_version: string | null;

  @text(64, 'RATE_LIMIT_EXCEEDED', true)
  error_code: string | null;

  @text(REQUEST_ID_MAX_LENGTH, '0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11')
  request_id: string;
}
