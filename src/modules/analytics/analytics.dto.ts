import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { FromDecimalText, INT32_MAX, IntRange } from '../../common/int-range.js';
import { TIMESTAMP_FIELD } from '../../common/openapi-bounds.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { INTERVALS, type Interval, MAX_POINTS } from './usage-range.js';

/** A status (`404`) or a status class (`4xx`). */
const STATUS_FILTER = /^[1-5](?:[0-9]{2}|xx)$/;
export const ROUTE_MAX_LENGTH = 512;
export const METHOD_MAX_LENGTH = 16;

/** A response string of at most `maxLength`. */
export const text = (maxLength: number, example: string, nullable = false) =>
  ApiProperty({ type: String, maxLength, example, nullable });

/** The filters usage analytics and the usage log share, each matching a usage_logs column. */
export class UsageFilters {
  @ApiPropertyOptional({
    example: '/api/v1/keys/:id',
    description: 'The route template, as usage logs show it in `route`',
  })
  @IsOptional()
  @IsString()
  @Length(1, ROUTE_MAX_LENGTH)
  endpoint?: string;

  @ApiPropertyOptional({ format: 'uuid', example: '0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11' })
  @IsOptional()
  @IsUUID('all')
  api_key_id?: string;

  @ApiPropertyOptional({ format: 'uuid', example: '7d1e5a36-2f0b-4c8e-9a57-1f3b2c4d5e6f' })
  @IsOptional()
  @IsUUID('all')
  user_id?: string;

  @ApiPropertyOptional({ example: 42 })
  @IsOptional()
  @FromDecimalText(10)
  @IntRange(1, INT32_MAX)
  project_id?: number;

  @ApiPropertyOptional({
    example: '4xx',
    description: 'A status (`404`) or a status class (`4xx`)',
  })
  @IsOptional()
  @IsString()
  @Length(3, 3)
  @Matches(STATUS_FILTER, { message: 'status must be a status such as 404 or a class such as 4xx' })
  status?: string;
}

export class UsageQuery extends UsageFilters {
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00.000Z',
    description:
      'Inclusive; default end_date minus 24 hours. Widened to the whole minute (to the hour when older than 7 days)',
  })
  @IsOptional()
  @IsTimestamp()
  start_date?: string;

  @ApiPropertyOptional({
    example: '2026-01-02T00:00:00.000Z',
    description:
      'Exclusive; default now. At most 13 months after start_date; widened to the whole minute (hour when older than 7 days)',
  })
  @IsOptional()
  @IsTimestamp()
  end_date?: string;

  @ApiPropertyOptional({
    enum: INTERVALS,
    default: 'hour',
    description: `Length of each data point (UTC; weeks start on Monday); at most ${MAX_POINTS} points`,
  })
  @IsIn(INTERVALS)
  interval: Interval = 'hour';
}

/** `GET /keys/{id}/usage`: the key is the path's. */
export class KeyUsageQuery extends OmitType(UsageQuery, ['api_key_id'] as const) {}

/** A response count (int64, within JavaScript's safe integers). */
export const count = (description: string, example = 120) =>
  ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    example,
    description,
  });
const milliseconds = (description: string, example: number) =>
  ApiProperty({ type: 'number', nullable: true, minimum: 0, example, description });
const fraction = (description: string, example: number) =>
  ApiProperty({ type: 'number', nullable: true, minimum: 0, maximum: 1, example, description });

/** The range an answer covers, after widening to whole rollup buckets. */
export class AnsweredRange {
  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-01T00:00:00.000Z',
    description: 'Start of the range answered (inclusive)',
  })
  start_date: string;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-02T00:00:00.000Z',
    description: 'End of the range answered (exclusive)',
  })
  end_date: string;
}

export class UsageDataPoint {
  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-01T00:00:00.000Z',
    description: 'Start of the interval (UTC)',
  })
  timestamp: string;

  @count('Requests in the interval')
  requests: number;

  @count('Requests answered with a status below 400')
  success_count: number;

  @count('Requests answered with a status of 400 or more')
  error_count: number;

  @count('Requests refused by a rate limit (429 RATE_LIMIT_EXCEEDED)')
  rate_limited: number;

  @count('Requests refused by a quota (429 QUOTA_EXCEEDED)')
  quota_exceeded: number;

  @milliseconds('Mean response time in ms; null without requests', 12.5)
  average_response_time: number | null;

  @milliseconds('95th percentile response time in ms (histogram, within 12%)', 48.8)
  p95: number | null;
}

export class UsageResponse extends AnsweredRange {
  @ApiProperty({ enum: INTERVALS, example: 'hour' })
  interval: Interval;

  @count('Requests in the range; equals the sum of the data points and the usage log rows')
  total_requests: number;

  @fraction('Share of requests answered below 400 (0-1); null without requests', 0.97)
  success_rate: number | null;

  @fraction('Share of requests answered 400 or above (0-1); null without requests', 0.03)
  error_rate: number | null;

  @count('Requests refused by a rate limit (429 RATE_LIMIT_EXCEEDED)')
  rate_limited: number;

  @count('Requests refused by a quota (429 QUOTA_EXCEEDED)')
  quota_exceeded: number;

  @milliseconds('Mean response time in ms', 12.5)
  average_response_time: number | null;

  @milliseconds('Median response time in ms (histogram, within 12%)', 8.7)
  p50: number | null;

  @milliseconds('95th percentile response time in ms (histogram, within 12%)', 48.8)
  p95: number | null;

  @milliseconds('99th percentile response time in ms (histogram, within 12%)', 95.4)
  p99: number | null;

  @ApiProperty({ type: [UsageDataPoint], maxItems: MAX_POINTS })
  data_points: UsageDataPoint[];
}

/** At most this many routes in one top-endpoints answer. */
export const TOP_ENDPOINTS_MAX = 100;

/** `GET /analytics/top-endpoints`: the range and filters of `/usage`, no interval. */
export class TopEndpointsQuery extends OmitType(UsageQuery, ['interval', 'endpoint'] as const) {
  @ApiPropertyOptional({
    example: 10,
    default: 10,
    description: `How many routes, the busiest first (1-${TOP_ENDPOINTS_MAX})`,
  })
  @IsOptional()
  @FromDecimalText(3)
  @IntRange(1, TOP_ENDPOINTS_MAX)
  limit = 10;
}

export class TopEndpoint {
  @text(METHOD_MAX_LENGTH, 'GET')
  method: string;

  @text(ROUTE_MAX_LENGTH, '/api/v1/keys/:id')
  endpoint: string;

  @count('Requests to the route in the range')
  requests: number;

  @count('Requests answered with a status of 400 or more')
  error_count: number;

  @fraction('Share of requests answered 400 or above (0-1)', 0.03)
  error_rate: number | null;

  @milliseconds('Mean response time in ms', 12.5)
  average_response_time: number | null;

  @milliseconds('95th percentile response time in ms (histogram, within 12%)', 48.8)
  p95: number | null;
}

export class TopEndpointsResponse extends AnsweredRange {
  @ApiProperty({
    type: [TopEndpoint],
    maxItems: TOP_ENDPOINTS_MAX,
    description: 'Routes (method and template) by requests, descending; ties by route then method',
  })
  endpoints: TopEndpoint[];
}

export const REALTIME_METRICS = [
  'requests',
  'errors',
  'active_keys',
  'active_users',
  'events',
] as const;
export type RealtimeMetric = (typeof REALTIME_METRICS)[number];
/** `1m`..`60m`. */
const REALTIME_WINDOW = /^(?:[1-9]|[1-5][0-9]|60)m$/;
const REALTIME_METRICS_LIST = new RegExp(
  `^(?:${REALTIME_METRICS.join('|')})(?:,(?:${REALTIME_METRICS.join('|')}))*$`,
);

export class RealtimeQuery {
  @ApiPropertyOptional({
    example: '5m',
    default: '5m',
    pattern: REALTIME_WINDOW.source,
    description: 'The last this many minutes (1m-60m), widened to whole minutes',
  })
  @IsOptional()
  @IsString()
  @Length(2, 3)
  @Matches(REALTIME_WINDOW, { message: 'window must be 1m to 60m' })
  window = '5m';

  @ApiPropertyOptional({
    example: 'requests,errors,active_keys,active_users,events',
    default: REALTIME_METRICS.join(','),
    maxLength: 64,
    description: `Comma-separated, any of ${REALTIME_METRICS.join(', ')}`,
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(REALTIME_METRICS_LIST, {
    message: `metrics must be a comma-separated list of ${REALTIME_METRICS.join(', ')}`,
  })
  metrics: string = REALTIME_METRICS.join(',');
}

const optionalCount = (description: string) =>
  ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    example: 120,
    description: `${description}; present when asked in metrics`,
  });

export class RealtimeResponse {
  @ApiProperty({ type: String, example: '5m', maxLength: 3 })
  window: string;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-01T11:55:00.000Z',
    description: 'Start of the window (inclusive; a whole minute)',
  })
  start_date: string;

  @ApiProperty({
    ...TIMESTAMP_FIELD,
    example: '2026-01-01T12:00:30.000Z',
    description: 'When the answer was read (usage is ingested within seconds)',
  })
  end_date: string;

  @optionalCount('Requests in the window')
  requests?: number;

  @optionalCount('Requests answered with a status of 400 or more')
  errors?: number;

  @optionalCount('Distinct API keys that made requests')
  active_keys?: number;

  @optionalCount('Distinct users that made requests (with a session or a key of theirs)')
  active_users?: number;

  @optionalCount('Requests refused by a rate limit or a quota (429)')
  events?: number;
}
