import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, TimeoutError, catchError, throwError, timeout } from 'rxjs';
import { AppError } from './app-error.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const BATCH_TIMEOUT_MS = 120_000;

/** `@RequestTimeout(BATCH_TIMEOUT_MS)` on a batch route; every other route gets 30 s. */
export const RequestTimeout = Reflector.createDecorator<number>();

/** A request that runs past its limit is answered 504 TIMEOUT (API.md). */
@Injectable()
export class TimeoutInterceptor implements NestInterceptor {
  /** Each handler's limit, read from its metadata on its first request. */
  private readonly limits = new WeakMap<object, number>();

  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    let limitMs = this.limits.get(handler);
    if (limitMs === undefined) {
      limitMs = this.reflector.get(RequestTimeout, handler) ?? DEFAULT_TIMEOUT_MS;
      this.limits.set(handler, limitMs);
    }
    return next.handle().pipe(
      timeout(limitMs),
      catchError((error: unknown) =>
        throwError(() =>
          error instanceof TimeoutError
            ? new AppError('TIMEOUT', `The request did not complete within ${limitMs / 1000} s`)
            : error,
        ),
      ),
    );
  }
}
