import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** Postgres `integer` (int4): every serial id and int column. */
export const INT32_MAX = 2_147_483_647;
const INT32_MIN = -INT32_MAX - 1;

/**
 * Documents an integer from `min` to `max`: `type: integer`, `format` (int32 when the range
 * fits Postgres's integer, else int64), `minimum` and `maximum`. IntRange for requests;
 * alone for the integers of responses.
 */
export function ApiInteger(min: number, max: number): PropertyDecorator {
  const format = min >= INT32_MIN && max <= INT32_MAX ? 'int32' : 'int64';
  return ApiProperty({ type: 'integer', format, minimum: min, maximum: max });
}

/**
 * An integer from `min` to `max`, validated and documented from the same two numbers:
 * class-validator's IsInt, Min and Max, and OpenAPI's `type: integer`, `format` (int32 when
 * the range fits Postgres's integer, else int64), `minimum` and `maximum`. The field's own
 * @ApiProperty adds its example and description, not its bounds.
 */
export function IntRange(min: number, max: number): PropertyDecorator {
  return applyDecorators(IsInt(), Min(min), Max(max), ApiInteger(min, max));
}

/**
 * An integer in a path or query string, read as decimal digits only (at most `maxDigits`):
 * Number() would also read `0x10` as 16, `1e3` as 1000, and ` 7`, `7.0` or an empty string
 * as numbers. Anything else becomes NaN, which IntRange refuses (400).
 */
export function FromDecimalText(maxDigits = 15): PropertyDecorator {
  const decimal = new RegExp(`^\\d{1,${maxDigits}}$`);
  return Transform(({ value }) =>
    typeof value === 'string' && decimal.test(value) ? Number(value) : NaN,
  );
}
