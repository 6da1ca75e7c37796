import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { OpenAPIV3 } from 'openapi-types';

type SchemaObject = OpenAPIV3.SchemaObject;
import { IsObject, IsOptional } from 'class-validator';
import type { PolicySet } from './rate-limit-setting.entity.js';

/** `{limit, algorithm}` for one window. */
const WINDOW_POLICY: SchemaObject = {
  type: 'object',
  required: ['limit'],
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
    algorithm: {
      type: 'string',
      enum: ['sliding_window', 'token_bucket'],
      default: 'sliding_window',
    },
  },
};

/** A policy set: window (second, minute, hour, day) -> policy. */
const POLICY_SET: SchemaObject = {
  type: 'object',
  additionalProperties: WINDOW_POLICY,
  example: {
    minute: { limit: 100, algorithm: 'sliding_window' },
    hour: { limit: 1000, algorithm: 'sliding_window' },
  },
};

export class RateLimitsResponse {
  @ApiProperty({ type: 'object', additionalProperties: WINDOW_POLICY, example: POLICY_SET.example })
  global: PolicySet;

  @ApiProperty({
    type: 'object',
    additionalProperties: POLICY_SET,
    description: 'tier -> policies',
  })
  tiers: Record<string, PolicySet>;

  @ApiProperty({
    type: 'object',
    additionalProperties: POLICY_SET,
    description: "The caller's organization: route template (e.g. /api/v1/users) -> policies",
  })
  endpoints: Record<string, PolicySet>;
}

/** PUT: each part sent replaces that part (global and tiers: platform administrators only). */
export class UpdateRateLimitsDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: WINDOW_POLICY,
    example: POLICY_SET.example,
  })
  @IsOptional()
  @IsObject()
  global?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: POLICY_SET })
  @IsOptional()
  @IsObject()
  tiers?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: POLICY_SET })
  @IsOptional()
  @IsObject()
  endpoints?: Record<string, unknown>;
}
