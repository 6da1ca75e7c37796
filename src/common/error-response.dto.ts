import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { ERROR_CODES, ERROR_FIELD_MAX_LENGTH, ERROR_MESSAGE_MAX_LENGTH } from './app-error.js';
import { MAX_ERROR_DETAILS } from './json-limits.js';
import { REQUEST_ID_MAX_LENGTH } from './request-id.js';

export class FieldErrorDto {
  @ApiProperty({ example: 'email', maxLength: ERROR_FIELD_MAX_LENGTH })
  field: string;

  @ApiProperty({ example: 'email must be an email', maxLength: ERROR_MESSAGE_MAX_LENGTH })
  message: string;
}

/** `details` of an error: wherever an error body appears (also in a batch item's result). */
export const ERROR_DETAILS_PROPERTY = {
  description: 'For VALIDATION_ERROR, a list of {field, message}; otherwise code-specific or null',
  oneOf: [
    {
      type: 'array',
      items: { $ref: '#/components/schemas/FieldErrorDto' },
      maxItems: MAX_ERROR_DETAILS,
    },
    { type: 'object', nullable: true },
  ],
} satisfies ApiPropertyOptions;

export class ErrorDetailDto {
  @ApiProperty({ enum: ERROR_CODES, example: 'VALIDATION_ERROR' })
  code: string;

  @ApiProperty({ example: 'Request validation failed', maxLength: ERROR_MESSAGE_MAX_LENGTH })
  message: string;

  @ApiProperty(ERROR_DETAILS_PROPERTY)
  details: unknown;

  @ApiProperty({
    example: '0b6f2d9e-5a7c-4e43-9d0e-8a1f3c2b7d11',
    description: "X-Request-Id: the client's own, if it sent a plain token, else a UUID",
    maxLength: REQUEST_ID_MAX_LENGTH,
  })
  request_id: string;
}

/** The one error body of API.md, shared by every operation in /openapi.json. */
export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto })
  error: ErrorDetailDto;
}
