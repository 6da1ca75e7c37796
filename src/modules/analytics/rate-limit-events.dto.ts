import { ApiProperty, IntersectionType, PickType } from '@nestjs/swagger';
import { MAX_LIMIT, MAX_OFFSET, PageQuery } from '../../common/pagination.js';
import { TIMESTAMP_FIELD, UUID_FIELD } from '../../common/openapi-bounds.js';
import { REQUEST_ID_MAX_LENGTH } from '../../common/request-id.js';
import {
  AnsweredRange,
  count,
  METHOD_MAX_LENGTH,
  ROUTE_MAX_LENGTH,
  UsageQuery,
  text,
} from './analytics.dto.js';

/** What refused a request: the window of a rate limit, or a quota. */
export const LIMIT_TYPES = ['second', 'minute', 'hour', 'day', 'quota'] as const;
export type LimitType = (typeof LIMIT_TYPES)[number];

/**
 * `GET /analytics/rate-limits`: the range (as `/usage` plans it, no interval) and the
 * credential filters, paginated like every list.
 */
export class RateLimitEventsQuery extends IntersectionType(
  PageQuery,
  PickType(UsageQuery, ['start_date', 'end_date', 'api_key_id', 'user_id'] as const),
) {}

const uuid = () => ApiProperty({ ...UUID_FIELD, type: String, nullable: true });

/** One refused request (a 429), from its usage log row. */
export class RateLimitEvent {
  @ApiProperty({ ...TIMESTAMP_FIELD, description: 'When the refused request arrived' })
  timestamp: string;

  @uuid()
  user_id: string | null;

  @uuid()
  api_key_id: string | null;

  @text(METHOD_MAX_LENGTH, 'GET')
  method: string;

  @text(ROUTE_MAX_LENGTH, '/api/v1/users', false)
  endpoint: string;

  @ApiProperty({
    enum: LIMIT_TYPES,
    example: 'minute',
    description: 'The window of the rate limit that refused the request, or `quota`',
  })
  limit_type: LimitType;

  @count('The limit: requests per window, or the quota’s max_requests', 2)
  limit_value: number;

  @count('What was counted against the limit when it refused (a refusal counts nothing)', 2)
  current_usage: number;

  @text(REQUEST_ID_MAX_LENGTH, '0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11')
  request_id: string;
}

export class RateLimitEventsResponse extends AnsweredRange {
  @count(
    'Refused requests in the range for the filters: every row of the usage log with a limit, so the events of every page add up to it',
    3,
  )
  total_events: number;

  @ApiProperty({ type: 'integer', format: 'int32', minimum: 1, maximum: MAX_LIMIT, example: 20 })
  limit: number;

  @ApiProperty({ type: 'integer', format: 'int32', minimum: 0, maximum: MAX_OFFSET, example: 0 })
  offset: number;

  @ApiProperty({
    type: [RateLimitEvent],
    maxItems: MAX_LIMIT,
    description: 'This page of the events, newest first',
  })
  events: RateLimitEvent[];
}
