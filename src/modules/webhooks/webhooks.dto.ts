import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
} from 'class-validator';
import { ApiInteger, INT32_MAX } from '../../common/int-range.js';
import { TIMESTAMP_FIELD, UUID_FIELD, maxLengthOf } from '../../common/openapi-bounds.js';
import { ApiRequestExample } from '../../common/request-example.js';
import { WEBHOOK_EVENT_FILTERS, WEBHOOK_EVENT_TYPES } from './webhook-events.js';
import { SECRET_MAX_LENGTH } from './webhook-signature.js';

export const WEBHOOK_URL_MAX_LENGTH = 2_048;
/** The most of a response body a delivery keeps. */
export const RESPONSE_BODY_MAX_BYTES = 1_024;
/** The longest delivery error recorded. */
export const DELIVERY_ERROR_MAX_LENGTH = 500;
const EVENT_ID_LENGTH = 'evt_'.length + 32;
const EXAMPLE_URL = 'https://203.0.113.10/webhooks/gatehouse';

@ApiRequestExample<CreateWebhookDto>({
  url: EXAMPLE_URL,
  description: 'Billing backend',
  events: ['api_key.created', 'quota.exceeded'],
})
export class CreateWebhookDto {
  @ApiProperty({
    example: EXAMPLE_URL,
    description:
      'http or https; refused when it resolves to a loopback, private, link-local, CGNAT, multicast or metadata address (loopback and private allowed when the server sets WEBHOOK_ALLOW_PRIVATE_URLS)',
  })
  @IsString()
  @Length(1, WEBHOOK_URL_MAX_LENGTH)
  url: string;

  @ApiPropertyOptional({ example: 'Billing backend', nullable: true })
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  description?: string | null;

  @ApiProperty({
    enum: WEBHOOK_EVENT_FILTERS,
    isArray: true,
    example: ['api_key.created', 'quota.exceeded'],
    description: 'Event types delivered to this endpoint; `*` for all',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_FILTERS.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_FILTERS, { each: true })
  events: string[];

  @ApiPropertyOptional({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description:
      'Your own signing secret: `whsec_` + base64 of 24 to 64 random bytes; left out, one is generated (32 bytes)',
  })
  @IsOptional()
  @IsString()
  @Length(1, SECRET_MAX_LENGTH)
  @Matches(/^whsec_[A-Za-z0-9+/]+={0,2}$/, {
    message: 'secret must be whsec_ followed by base64 of 24 to 64 bytes',
  })
  secret?: string;
}

/** PATCH: only the fields sent change. */
@ApiRequestExample<UpdateWebhookDto>({ events: ['*'], active: true })
export class UpdateWebhookDto {
  @ApiPropertyOptional({ example: EXAMPLE_URL, description: 'Checked as on create' })
  @IsOptional()
  @IsString()
  @Length(1, WEBHOOK_URL_MAX_LENGTH)
  url?: string;

  @ApiPropertyOptional({ example: 'Billing backend', nullable: true })
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  description?: string | null;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_FILTERS, isArray: true, example: ['*'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_FILTERS.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_FILTERS, { each: true })
  events?: string[];

  @ApiPropertyOptional({
    example: true,
    description: 'false stops deliveries; true turns a disabled endpoint back on',
  })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class WebhookResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty(UUID_FIELD)
  organization_id: string;

  @ApiProperty({ example: EXAMPLE_URL, ...maxLengthOf(CreateWebhookDto, 'url') })
  url: string;

  @ApiProperty({ nullable: true, type: String, ...maxLengthOf(CreateWebhookDto, 'description') })
  description: string | null;

  @ApiProperty({
    enum: WEBHOOK_EVENT_FILTERS,
    isArray: true,
    maxItems: WEBHOOK_EVENT_FILTERS.length,
    example: ['api_key.created'],
  })
  events: string[];

  @ApiProperty({ example: true })
  active: boolean;

  @ApiProperty({
    enum: ['gone'],
    nullable: true,
    type: String,
    description: 'Why the server disabled it: `gone` (the receiver answered 410); null otherwise',
  })
  disabled_reason: string | null;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty(TIMESTAMP_FIELD)
  updated_at: string;
}

export class WebhookWithSecretResponse extends WebhookResponse {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret, shown this once',
    maxLength: SECRET_MAX_LENGTH,
  })
  secret: string;
}

export class WebhookRotatedSecretResponse extends WebhookWithSecretResponse {
  @ApiProperty({
    ...TIMESTAMP_FIELD,
    description:
      'Until when the previous secret keeps signing too (24 h): each delivery carries a `v1,` ' +
      'signature per secret in `webhook-signature`, space-separated',
  })
  previous_secret_expires_at: string;
}

/** An event as it is delivered (the body of the POST to the endpoint). */
export class WebhookEventResponse {
  @ApiProperty({ example: 'evt_2f1c5b7e9a0d4c3b8e6f1a2b3c4d5e6f', maxLength: EVENT_ID_LENGTH })
  id: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, example: 'webhook.test' })
  type: string;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { webhook_id: '7d1e…' } })
  data: Record<string, unknown>;
}

export class WebhookDeliveryResponse {
  @ApiProperty(UUID_FIELD)
  id: string;

  @ApiProperty(UUID_FIELD)
  webhook_id: string;

  @ApiProperty({ example: 'evt_2f1c5b7e9a0d4c3b8e6f1a2b3c4d5e6f', maxLength: EVENT_ID_LENGTH })
  event_id: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, example: 'webhook.test' })
  event_type: string;

  @ApiProperty({ example: 1, description: '1 for the first attempt, counting manual retries' })
  @ApiInteger(1, INT32_MAX)
  attempt: number;

  @ApiProperty({ enum: ['succeeded', 'failed'] })
  status: string;

  @ApiProperty({ example: 200, nullable: true, description: 'null when no response came' })
  @ApiInteger(100, 999)
  response_status: number | null;

  @ApiProperty({ example: 42 })
  @ApiInteger(0, INT32_MAX)
  duration_ms: number;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'timed out after 15000 ms',
    maxLength: DELIVERY_ERROR_MAX_LENGTH,
  })
  error: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The first 1 KB of the response body',
    maxLength: RESPONSE_BODY_MAX_BYTES,
  })
  response_body: string | null;

  @ApiProperty(TIMESTAMP_FIELD)
  created_at: string;
}
