import { Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AllExceptionsFilter } from './exception.filter.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { TimeoutInterceptor } from './timeout.interceptor.js';
import { createValidationPipe } from './validation.js';

/** The HTTP conventions every route gets: error format, validation, timeouts, idempotency. */
@Module({
  providers: [
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_INTERCEPTOR, useClass: TimeoutInterceptor },
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
  ],
})
export class CommonModule {}
