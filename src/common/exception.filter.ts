import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  isDatabaseUnavailable,
  isStatementCanceled,
  isUniqueViolation,
} from '../database/postgres-errors.js';
import { AppError, type ErrorCode } from './app-error.js';

/** What the client sees: API.md's error body. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown; request_id: string };
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_ERROR',
  401: 'AUTHENTICATION_FAILED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_NOT_FOUND',
  409: 'CONFLICT',
  410: 'API_VERSION_SUNSET',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMIT_EXCEEDED',
  503: 'SERVICE_UNAVAILABLE',
  504: 'TIMEOUT',
};

interface FastifyLikeError {
  statusCode: number;
  code?: string;
  message: string;
}

function isFastifyError(error: unknown): error is FastifyLikeError {
  if (!(error instanceof Error)) return false;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** Messages for the failures Fastify raises before a route runs (body parsing, limits). */
function fastifyMessage(error: FastifyLikeError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than the 10 MB limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Content-Type must be application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Body is empty but Content-Type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'Malformed JSON body';
    default:
      return error.message;
  }
}

/**
 * Seconds a client waits before retrying while the database is unreachable or too slow: about
 * one pool connect timeout (src/database/data-source.ts), so a retry finds it back soon after
 * it is.
 */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** 503 with Retry-After: the database cannot serve the request now; the message says why. */
function databaseRetryLater(message: string): AppError {
  return new AppError('SERVICE_UNAVAILABLE', message, null, {
    'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
  });
}

/** Turns anything thrown into an AppError; unknown errors become a 500 with no internals. */
export function toAppError(thrown: unknown): { appError: AppError; unexpected: boolean } {
  // Nest wraps Fastify's own 4xx errors (body parsing) in an HttpException; unwrap them.
  const error =
    thrown instanceof HttpException && isFastifyError(thrown.cause) ? thrown.cause : thrown;
  if (error instanceof AppError) return { appError: error, unexpected: false };
  if (error instanceof HttpException && error.getStatus() < 500) {
    // Any other client error the framework raises (405, 406, 422...) is still the client's.
    const status = error.getStatus();
    const code = CODE_BY_STATUS[status] ?? 'VALIDATION_ERROR';
    const message = status === 404 ? 'Resource not found' : error.message;
    return { appError: new AppError(code, message), unexpected: false };
  }
  if (error instanceof HttpException) {
    const code = CODE_BY_STATUS[error.getStatus()];
    if (code !== undefined)
      return { appError: new AppError(code, error.message), unexpected: false };
  }
  if (isUniqueViolation(error)) {
    return {
      appError: new AppError('CONFLICT', 'A resource with these unique fields already exists'),
      unexpected: false,
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      appError: databaseRetryLater('The database is unavailable; retry shortly'),
      unexpected: false,
    };
  }
  if (isStatementCanceled(error)) {
    // Nothing was written (the transaction rolled back), so retrying is safe; the statement
    // stays out of the body, and Postgres's own log names it.
    return {
      appError: databaseRetryLater('The database did not answer in time; retry shortly'),
      unexpected: false,
    };
  }
  if (isFastifyError(error)) {
    const code = CODE_BY_STATUS[error.statusCode] ?? 'VALIDATION_ERROR';
    return { appError: new AppError(code, fastifyMessage(error)), unexpected: false };
  }
  return {
    appError: new AppError('INTERNAL_ERROR', 'An unexpected error occurred'),
    unexpected: true,
  };
}

export function errorBody(appError: AppError, requestId: string): ErrorBody {
  return {
    error: {
      code: appError.code,
      message: appError.message,
      details: appError.details ?? null,
      request_id: requestId,
    },
  };
}

/**
 * The one place an error becomes a response, for every route, guard, pipe, body parser and
 * unmatched URL. Unexpected errors are logged with the request id and answered as a bare 500.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  /** When the last "database unavailable" warning was logged: one a minute during an outage. */
  private databaseWarnedAt = 0;

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { appError, unexpected } = toAppError(exception);
    // For the usage record (onResponse): tells a rate limit's 429 from a quota's.
    request.errorCode = appError.code;
    if (unexpected) {
      const stack = exception instanceof Error ? exception.stack : String(exception);
      this.logger.error({
        msg: 'unhandled error',
        request_id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
        stack,
      });
    }
    if (appError.code === 'SERVICE_UNAVAILABLE' && isDatabaseUnavailable(exception)) {
      this.warnDatabaseUnavailable(exception);
    }
    if (isStatementCanceled(exception)) {
      // One line per request, saying which route was too slow (its SQL is in Postgres's log).
      this.logger.warn({
        msg: 'database statement cancelled; answering 503',
        reason: exception.message,
        request_id: request.id,
        method: request.method,
        path: request.url.split('?')[0],
      });
    }
    if (reply.sent) return;
    void reply
      .status(appError.status)
      .headers(appError.headers)
      .send(errorBody(appError, request.id));
  }

  private warnDatabaseUnavailable(exception: unknown): void {
    const now = Date.now();
    if (now - this.databaseWarnedAt < 60_000) return;
    this.databaseWarnedAt = now;
    const reason = exception instanceof Error ? exception.message : String(exception);
    this.logger.warn({ msg: 'database unavailable; answering 503', reason });
  }
}
