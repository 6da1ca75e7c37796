import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { OpenAPIV3 } from 'openapi-types';
import { ApiRequestExample } from '../../common/request-example.js';

type SchemaObject = OpenAPIV3.SchemaObject;
import { IsObject, IsOptional, ValidateBy } from 'class-validator';

/** Each override is a window set in every request's plan: at most this many per organization. */
export const MAX_ENDPOINT_OVERRIDES = 100;

/** An object of at most `max` keys (counted before anything walks its values). */
function MaxKeys(max: number) {
  return ValidateBy({
    name: 'maxKeys',
    constraints: [max],
    validator: {
      validate: (value: unknown) =>
        value === null || typeof value !== 'object' || Object.keys(value).length <= max,
      defaultMessage: (args) => `${args?.property ?? 'value'} may hold at most ${max} entries`,
    },
  });
}
import { LIMIT_MAX } from './policy-set.js';
import type { PolicySet } from './rate-limit-setting.entity.js';

/** `{limit, algorithm}` for one window. */
export const WINDOW_POLICY: SchemaObject = {
  type: 'object',
  required: ['limit'],
  properties: {
    limit: { type: 'integer', format: 'int32', minimum: 1, maximum: LIMIT_MAX },
    algorithm: {
      type: 'string',
      enum: ['sliding_window', 'token_bucket'],
      default: 'sliding_window',
    },
  },
};

const SET_EXAMPLE = {
  minute: { limit: 100, algorithm: 'sliding_window' },
  hour: { limit: 1000, algorithm: 'sliding_window' },
};

/** A policy set: window (second, minute, hour, day) -> policy. */
const POLICY_SET: SchemaObject = {
  type: 'object',
  additionalProperties: WINDOW_POLICY,
  example: SET_EXAMPLE,
};

export class RateLimitsResponse {
  @ApiProperty({ type: 'object', additionalProperties: WINDOW_POLICY, example: POLICY_SET.example })
  global: PolicySet;

  @ApiProperty({
    type: 'object',
    additionalProperties: WINDOW_POLICY,
    nullable: true,
    example: null,
    description:
      "The caller's organization's own set (set by a platform administrator with PATCH /organizations/{id}); when present it replaces its tier's set",
  })
  organization: PolicySet | null;

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
@ApiRequestExample<UpdateRateLimitsDto>({
  endpoints: { '/api/v1/users': { second: { limit: 10 } } },
})
export class UpdateRateLimitsDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: WINDOW_POLICY,
    example: POLICY_SET.example,
  })
  @IsOptional()
  @IsObject()
  global?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: POLICY_SET,
    example: { professional: SET_EXAMPLE },
    description:
      'Tier -> policies (platform administrators); a tier with no windows falls back to the global set',
  })
  @IsOptional()
  @IsObject()
  tiers?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: POLICY_SET,
    maxProperties: MAX_ENDPOINT_OVERRIDES,
    example: { '/api/v1/users': { second: { limit: 10 } } },
    description: `The organization's endpoint overrides (organization admins): route template -> policies, at most ${MAX_ENDPOINT_OVERRIDES}; replaces the previous ones`,
  })
  @IsOptional()
  @MaxKeys(MAX_ENDPOINT_OVERRIDES)
  @IsObject()
  endpoints?: Record<string, unknown>;
}
