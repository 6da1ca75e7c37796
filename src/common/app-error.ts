import { HttpStatus } from '@nestjs/common';
import { MAX_ERROR_DETAILS } from './json-limits.js';

/** The contract's error codes (API.md, "Wire conventions"), each with its one HTTP status. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: HttpStatus.BAD_REQUEST,
  AUTHENTICATION_FAILED: HttpStatus.UNAUTHORIZED,
  API_KEY_INVALID: HttpStatus.UNAUTHORIZED,
  API_KEY_REVOKED: HttpStatus.UNAUTHORIZED,
  API_KEY_EXPIRED: HttpStatus.UNAUTHORIZED,
  TOKEN_EXPIRED: HttpStatus.UNAUTHORIZED,
  PERMISSION_DENIED: HttpStatus.FORBIDDEN,
  IP_NOT_ALLOWED: HttpStatus.FORBIDDEN,
  RESOURCE_NOT_FOUND: HttpStatus.NOT_FOUND,
  // Not in API.md's table: a method the path does not have (with Allow), never an operation's.
  METHOD_NOT_ALLOWED: HttpStatus.METHOD_NOT_ALLOWED,
  CONFLICT: HttpStatus.CONFLICT,
  API_VERSION_SUNSET: HttpStatus.GONE,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  URI_TOO_LONG: HttpStatus.URI_TOO_LONG,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  IDEMPOTENCY_KEY_REUSED: HttpStatus.UNPROCESSABLE_ENTITY,
  RATE_LIMIT_EXCEEDED: HttpStatus.TOO_MANY_REQUESTS,
  QUOTA_EXCEEDED: HttpStatus.TOO_MANY_REQUESTS,
  INTERNAL_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
  SERVICE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  TIMEOUT: HttpStatus.GATEWAY_TIMEOUT,
} as const satisfies Record<string, HttpStatus>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/**
 * The longest error message and detail field a body carries. Messages may echo what the client
 * sent (an unknown property's name, a malformed URL), so they are cut here rather than grow
 * with the request; the longest the server writes itself (a list of every audit action) is
 * far shorter.
 */
export const ERROR_MESSAGE_MAX_LENGTH = 2_000;
export const ERROR_FIELD_MAX_LENGTH = 256;

/** `text` cut to `max` characters, ending in an ellipsis when cut (never half a surrogate pair). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The only error services throw on purpose. The global filter renders it as the contract's
 * error body; `headers` carries what a status needs besides the body (Retry-After on a 429).
 */
export class AppError extends Error {
  readonly status: HttpStatus;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(clip(message, ERROR_MESSAGE_MAX_LENGTH));
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

/** A module's error factory: `err('RESOURCE_NOT_FOUND', 'Project not found')()` -> AppError. */
export function err(code: ErrorCode, message: string) {
  return (details?: unknown, headers?: Record<string, string>) =>
    new AppError(code, message, details, headers);
}

export const CommonErrors = {
  notFound: (what = 'Resource') => new AppError('RESOURCE_NOT_FOUND', `${what} not found`),
  /** At most MAX_ERROR_DETAILS details, each clipped; the message says how many there were. */
  validation: (details: FieldError[], message = 'Request validation failed') => {
    const shown = details.slice(0, MAX_ERROR_DETAILS).map(({ field, message: text }) => ({
      field: clip(field, ERROR_FIELD_MAX_LENGTH),
      message: clip(text, ERROR_MESSAGE_MAX_LENGTH),
    }));
    return new AppError(
      'VALIDATION_ERROR',
      details.length > MAX_ERROR_DETAILS
        ? `${message} (${MAX_ERROR_DETAILS} of ${details.length} errors shown)`
        : message,
      shown,
    );
  },
  conflict: (message: string) => new AppError('CONFLICT', message),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new AppError(
      'METHOD_NOT_ALLOWED',
      `${method} is not allowed on this path; it allows ${allowed.join(', ')}`,
      null,
      { Allow: allowed.join(', ') },
    ),
  unavailable: (message: string, details?: unknown) =>
    new AppError('SERVICE_UNAVAILABLE', message, details),
};
