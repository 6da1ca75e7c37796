import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { type AppError, CommonErrors, type FieldError } from './app-error.js';

/** Flattens class-validator's tree into the contract's `[{field, message}]`, fields dotted. */
export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return own.concat(fieldErrors(error.children ?? [], field));
  });
}

/**
 * Validation at the edge: unknown fields are rejected (whitelist + forbidNonWhitelisted, so a
 * mass-assignment attempt is a 400, not silently ignored), and query strings are converted
 * to the DTO's types.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => CommonErrors.validation(fieldErrors(errors)),
  });
}

/**
 * Validates one item of a batch the way the global pipe validates a body, so a bad item
 * becomes that item's 400 instead of failing the whole batch.
 */
export async function validateItem<T extends object>(
  type: new () => T,
  plain: unknown,
): Promise<{ value: T } | { error: AppError }> {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    return { error: CommonErrors.validation([{ field: '', message: 'item must be an object' }]) };
  }
  const value = plainToInstance(type, plain);
  const errors = await validate(value, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  return errors.length > 0 ? { error: CommonErrors.validation(fieldErrors(errors)) } : { value };
}

/**
 * PATCH bodies accept null only where null means "clear" (IsOptional lets it through
 * everywhere): for any other field it is a 400, never a NOT NULL violation.
 */
export function rejectNulls(body: object, fields: string[]): void {
  const record = body as Record<string, unknown>;
  const nulls = fields.filter((field) => record[field] === null);
  if (nulls.length > 0) {
    throw CommonErrors.validation(
      nulls.map((field) => ({ field, message: `${field} cannot be null` })),
    );
  }
}
