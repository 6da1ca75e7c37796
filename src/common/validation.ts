import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { CommonErrors, type FieldError } from './app-error.js';

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
