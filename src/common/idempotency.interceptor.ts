import { createHmac } from 'node:crypto';
import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Observable, from, lastValueFrom, of } from 'rxjs';
import { AuthConfig } from '../config/config.classes.js';
import { AppError, CommonErrors } from './app-error.js';
import { principalId } from './principal.js';
import { SealedRecords, deriveKey } from './sealed-record.js';
import { stableJson } from './stable-json.js';
import { REDIS, type RedisClient } from '../redis/redis-client.js';

/** A completed response is replayed for 24 hours, as API.md promises. */
const REPLAY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * An in-flight claim outlives the longest request (120 s for batch operations) and then
 * expires, so a process that died mid-request does not block the key for a day.
 */
const IN_FLIGHT_TTL_MS = 130 * 1000;
/** An Idempotency-Key: 1-255 printable ASCII characters. */
export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

type StoredRecord =
  | { state: 'in_flight'; fingerprint: string }
  | { state: 'done'; fingerprint: string; status: number; body: unknown };

function headerValue(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'] ?? request.headers['x-idempotency-key'];
  return Array.isArray(raw) ? raw[0] : raw;
}

/**
 * `Idempotency-Key` on any POST (API.md, "Wire conventions"). The first request claims the
 * key in Redis with SET NX; a retry with the same body gets the stored response back with
 * `Idempotent-Replayed: true`; the same key with another body is 422; a retry while the first
 * is still running is 409. Keys are scoped to the caller (principal, or IP when anonymous),
 * so one client's key never replays another's response. Only successful responses are
 * stored: a request that failed releases its key, so the client can fix it and retry.
 *
 * Every record is stored sealed (AES-256-GCM, bound to its Redis key), since some responses
 * carry a secret (a key's create and rotate). Record names and the cipher key both derive
 * from JWT_SECRET: after the secret is rotated, records made under the previous one are not
 * found (a miss, so a retry runs again), and they expire within 24 hours.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');
  private readonly hmacKey: Buffer;
  private readonly sealed: SealedRecords;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly reflector: Reflector,
    auth: AuthConfig,
  ) {
    this.hmacKey = deriveKey(auth.jwtSecret, 'idempotency names');
    this.sealed = new SealedRecords(auth.jwtSecret, 'idempotency records');
  }

  /** Keyed hash: request bodies (which may hold passwords) are not guessable from Redis. */
  private hmac(value: string): string {
    return createHmac('sha256', this.hmacKey).update(value).digest('hex');
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.method !== 'POST') return next.handle();
    if (this.reflector.get(SkipIdempotencyMetadata, context.getHandler())) return next.handle();
    const idempotencyKey = headerValue(request);
    if (idempotencyKey === undefined) return next.handle();
    if (!KEY_PATTERN.test(idempotencyKey)) {
      throw CommonErrors.validation([
        { field: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' },
      ]);
    }

    const caller = request.principal ? principalId(request.principal) : `anonymous:${request.ip}`;
    const redisKey = `idempotency:${this.hmac(`${caller}\n${idempotencyKey}`)}`;
    const fingerprint = this.hmac(`${request.method} ${request.url}\n${stableJson(request.body)}`);
    const claim: StoredRecord = { state: 'in_flight', fingerprint };

    const claimed = await this.guard(
      this.redis.set(redisKey, this.seal(claim, redisKey), 'PX', IN_FLIGHT_TTL_MS, 'NX'),
    );
    if (claimed === null) {
      return this.replay(redisKey, fingerprint, context.switchToHttp().getResponse<FastifyReply>());
    }

    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const declaredStatus =
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, context.getHandler()) ??
      HttpStatus.CREATED;
    // Awaited as a promise, not an observable: if the timeout answers 504 first, the handler
    // still runs to its end here, and its result is stored or its key released regardless.
    const outcome = lastValueFrom(next.handle()).then(
      async (body: unknown) => {
        // The handler may have chosen its status (POST /users: 201 created or 202 invited).
        const status =
          reply.statusCode >= 200 && reply.statusCode < 300 ? reply.statusCode : declaredStatus;
        const done: StoredRecord = { state: 'done', fingerprint, status, body };
        await this.redis
          .set(redisKey, this.seal(done, redisKey), 'PX', REPLAY_TTL_MS)
          .catch((error: unknown) => {
            this.logger.error({
              msg: 'could not store an idempotent response',
              error: String(error),
            });
          });
        return body;
      },
      async (error: unknown) => {
        await this.redis.del(redisKey).catch(() => 0);
        throw error;
      },
    );
    return from(outcome);
  }

  private async replay(
    redisKey: string,
    fingerprint: string,
    reply: FastifyReply,
  ): Promise<Observable<unknown>> {
    const raw = await this.guard(this.redis.get(redisKey));
    if (raw === null) {
      // The first request failed and released the key between our SET and GET.
      throw CommonErrors.conflict('A request with this Idempotency-Key was just processed; retry');
    }
    const opened = this.sealed.open(raw, redisKey);
    if (opened === null) {
      // Not sealed by this secret (written before sealing, or damaged): forget it.
      await this.redis.del(redisKey).catch(() => 0);
      throw CommonErrors.conflict('A request with this Idempotency-Key was just processed; retry');
    }
    const record = JSON.parse(opened) as StoredRecord;
    if (record.fingerprint !== fingerprint) {
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'This Idempotency-Key was already used with a different request',
      );
    }
    if (record.state === 'in_flight') {
      throw CommonErrors.conflict('A request with this Idempotency-Key is still being processed');
    }
    void reply.status(record.status).header('Idempotent-Replayed', 'true');
    return of(record.body);
  }

  private seal(record: StoredRecord, redisKey: string): string {
    return this.sealed.seal(JSON.stringify(record), redisKey);
  }

  /** Without Redis there is no safe way to honour the key: say so rather than risk a double. */
  private async guard<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch {
      throw CommonErrors.unavailable('Idempotency store unavailable; retry later');
    }
  }
}

/**
 * `@SkipIdempotency()` on a route whose response carries credentials (login, refresh): its
 * responses are never stored, so no token sits in Redis, and the header is ignored there.
 */
export function SkipIdempotency(): MethodDecorator {
  return applyDecorators(SkipIdempotencyMetadata(), ApiExtension(IDEMPOTENCY_IGNORED, true));
}

const SkipIdempotencyMetadata = Reflector.createDecorator<void, true>({ transform: () => true });

/** Marks the POSTs that ignore Idempotency-Key in the OpenAPI document (src/common/openapi.ts). */
export const IDEMPOTENCY_IGNORED = 'x-idempotency-key-ignored';
