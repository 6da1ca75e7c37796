import { FINGERPRINT_MAX_ITEMS } from './event-grouping.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { INT32_MAX } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD, UUID_LENGTH } from '../../common/openapi-bounds.js';
import { PageQuery } from '../../common/pagination.js';
import { IsTimestamp } from '../../common/timestamp.js';
import { EVENT_LEVELS, type EventLevel } from './event-fields.js';
import { MESSAGE_MAX_LENGTH, SHORT_TEXT_MAX_LENGTH } from './event-json.js';

/** The longest `q`: a substring of a message, which is at most MESSAGE_MAX_LENGTH. */
const Q_MAX_LENGTH = 256;
/** An issue's id: a bigint identity, well inside a JSON number's exact range. */
const ISSUE_ID_FIELD = {
  type: 'integer',
  format: 'int64',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  example: 7,
} as const;
const PROJECT_ID_FIELD = {
  type: 'integer',
  format: 'int32',
  minimum: 1,
  maximum: INT32_MAX,
  example: 42,
} as const;
/** A grouping fingerprint's parts (event-grouping.ts bounds them). */
const FINGERPRINT_FIELD = {
  type: 'array',
  items: { type: 'string', maxLength: MESSAGE_MAX_LENGTH },
  maxItems: FINGERPRINT_MAX_ITEMS,
  example: ['ZeroDivisionError', 'app.billing:charge'],
} as const;

const shortText = (example: string) =>
  ApiProperty({ type: String, nullable: true, maxLength: SHORT_TEXT_MAX_LENGTH, example });
const filter = (example: string, description: string) =>
  ApiPropertyOptional({ example, description, maxLength: SHORT_TEXT_MAX_LENGTH });

/**
 * An event id as SDKs report it (the ingest route's answer: 32 hex digits, Sentry's form) or
 * as the API answers it (a dashed UUID), in any case; asUuid turns either into the stored form.
 */
const EVENT_ID_PATTERN =
  /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

/** `GET /events/{id}`'s `:id`: anything but the two forms is a 400, not a database error. */
export class EventIdParam {
  @ApiProperty({
    type: String,
    pattern: EVENT_ID_PATTERN.source,
    minLength: 32,
    maxLength: UUID_LENGTH,
    description:
      "The event's event_id: 32 hex digits as the SDK and the ingest route give it, or the " +
      'dashed UUID the API answers; either case',
  })
  @IsString()
  @Matches(EVENT_ID_PATTERN, { message: 'id must be 32 hex digits or a UUID' })
  id: string;
}

/** `GET /events` and `GET /projects/{id}/events`: filters, newest received first, paginated. */
export class EventsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: EVENT_LEVELS, example: 'error' })
  @IsOptional()
  @IsIn(EVENT_LEVELS)
  level?: EventLevel;

  @filter('web@1.4.2', 'Exactly this release')
  @IsOptional()
  @IsString()
  @Length(1, SHORT_TEXT_MAX_LENGTH)
  release?: string;

  @filter('production', 'Exactly this environment')
  @IsOptional()
  @IsString()
  @Length(1, SHORT_TEXT_MAX_LENGTH)
  environment?: string;

  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00.000Z',
    description: 'Received at or after (inclusive)',
  })
  @IsOptional()
  @IsTimestamp()
  start_time?: string;

  @ApiPropertyOptional({ example: '2026-02-01T00:00:00.000Z', description: 'Received before' })
  @IsOptional()
  @IsTimestamp()
  end_time?: string;

  @ApiPropertyOptional({
    example: 'division by zero',
    maxLength: Q_MAX_LENGTH,
    description:
      'A substring (case-insensitive, taken literally) of the message or the exception value',
  })
  @IsOptional()
  @IsString()
  @Length(1, Q_MAX_LENGTH)
  q?: string;
}

export class EventResponse {
  @ApiProperty({ ...UUID_FIELD, description: "The event's event_id" })
  id: string;

  @ApiProperty(PROJECT_ID_FIELD)
  project_id: number;

  @ApiProperty(ISSUE_ID_FIELD)
  issue_id: number;

  @ApiProperty({ ...UUID_FIELD, description: 'The envelope the event came in' })
  envelope_id: string;

  @ApiProperty({ ...TIMESTAMP_FIELD, description: 'When Gatehouse received the envelope' })
  received_at: string;

  @ApiProperty({ ...TIMESTAMP_FIELD, description: "The event's own timestamp (the SDK's clock)" })
  timestamp: string;

  @ApiProperty({ enum: EVENT_LEVELS, example: 'error' })
  level: string;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: MESSAGE_MAX_LENGTH,
    example: 'Payment failed for order 1234',
  })
  message: string | null;

  @shortText('ZeroDivisionError')
  exception_type: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: MESSAGE_MAX_LENGTH,
    example: 'division by zero',
  })
  exception_value: string | null;

  @shortText('web@1.4.2')
  release: string | null;

  @shortText('production')
  environment: string | null;

  @shortText('python')
  platform: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: SHORT_TEXT_MAX_LENGTH },
    example: { browser: 'Firefox 133', region: 'eu' },
  })
  tags: Record<string, string>;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    example: { id: '42', email: 'ada@example.com' },
  })
  user: object | null;

  @ApiProperty({ ...FINGERPRINT_FIELD, description: 'What the event was grouped by' })
  fingerprint: string[];
}

/** One item of the event's envelope, decoded. */
export class EnvelopeItemResponse {
  @ApiProperty({ example: 'event', maxLength: SHORT_TEXT_MAX_LENGTH })
  type: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { type: 'event', length: 412 },
    description: 'The item header as sent',
  })
  headers: object;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: 104_857_600,
    example: 412,
    description: 'Payload bytes (an envelope is at most 100 MB)',
  })
  length: number;

  @ApiProperty({
    enum: ['json', 'base64', 'omitted'],
    example: 'json',
    description:
      'json: the payload parsed (`payload`); base64: a non-JSON payload up to 64 KB, base64 ' +
      '(`payload`); omitted: attachments and larger payloads (only `length`)',
  })
  encoding: 'json' | 'base64' | 'omitted';

  @ApiPropertyOptional({
    oneOf: [
      { type: 'object', additionalProperties: true },
      { type: 'array', items: {} },
      // base64 of at most 64 KB
      { type: 'string', format: 'byte', maxLength: 87_384 },
    ],
    description:
      'The payload: a JSON object or array when `encoding` is json, a base64 string when base64',
    example: { event_id: '9ec79c33ec9942ab8353589fcb2e04dc', level: 'error' },
  })
  payload?: unknown;
}

export class EventDetailResponse extends EventResponse {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { event_id: '9ec79c33ec9942ab8353589fcb2e04dc', sent_at: '2026-01-01T00:00:00.000Z' },
    description: 'The envelope header as sent',
  })
  envelope_headers: object;

  @ApiProperty({ type: [EnvelopeItemResponse], maxItems: 100 })
  items: EnvelopeItemResponse[];
}

export class IssueResponse {
  @ApiProperty(ISSUE_ID_FIELD)
  id: number;

  @ApiProperty(PROJECT_ID_FIELD)
  project_id: number;

  @ApiProperty({
    maxLength: MESSAGE_MAX_LENGTH,
    example: 'ZeroDivisionError: division by zero',
    description: "The first event's exception type and value, else its message",
  })
  title: string;

  @ApiProperty({ enum: EVENT_LEVELS, nullable: true, example: 'error', type: String })
  level: string | null;

  @ApiProperty(FINGERPRINT_FIELD)
  fingerprint: string[];

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    example: 12,
  })
  count: number;

  @ApiProperty(TIMESTAMP_FIELD)
  first_seen: string;

  @ApiProperty(TIMESTAMP_FIELD)
  last_seen: string;
}
