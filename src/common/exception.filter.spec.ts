import { describe, expect, it } from '@jest/globals';
import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppError } from './app-error.js';
import { toAppError } from './exception.filter.js';

function fastifyError(code: string, statusCode: number, message = 'fastify says no'): Error {
  return Object.assign(new Error(message), { code, statusCode, name: 'FastifyError' });
}

describe('toAppError', () => {
  it('passes AppErrors through', () => {
    const error = new AppError('QUOTA_EXCEEDED', 'over', { limit: 1 }, { 'Retry-After': '5' });
    expect(toAppError(error)).toEqual({ appError: error, unexpected: false });
  });

  it('maps Nest HTTP exceptions by status', () => {
    expect(toAppError(new NotFoundException('Cannot GET /x')).appError).toMatchObject({
      code: 'RESOURCE_NOT_FOUND',
      message: 'Resource not found',
    });
    expect(toAppError(new BadRequestException('bad')).appError.code).toBe('VALIDATION_ERROR');
    for (const status of [405, 406, 408, 412, 422]) {
      expect(toAppError(new HttpException('client error', status))).toMatchObject({
        appError: { code: 'VALIDATION_ERROR', status: 400 },
        unexpected: false,
      });
    }
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'VALIDATION_ERROR'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'VALIDATION_ERROR'],
  ])('maps Fastify %s, raw or wrapped by Nest, to %s', (code, status, expected) => {
    const raw = fastifyError(code, status);
    expect(toAppError(raw).appError.code).toBe(expected);
    const wrapped = new HttpException('wrapped', status, { cause: raw });
    expect(toAppError(wrapped).appError.code).toBe(expected);
    expect(toAppError(wrapped).appError.message).not.toBe('fastify says no');
  });

  it('turns a unique violation into 409 CONFLICT', () => {
    const error = new QueryFailedError(
      'INSERT ...',
      [],
      Object.assign(new Error('duplicate key'), { code: '23505' }),
    );
    expect(toAppError(error)).toMatchObject({
      appError: { code: 'CONFLICT', status: 409 },
      unexpected: false,
    });
  });

  it.each([
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    [
      'every address refused',
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect'),
    ],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('Connection terminated due to connection timeout')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    [
      'an administrator terminating it',
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
    ],
    [
      'a server starting up',
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ],
    [
      'too many connections',
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
    ],
    [
      'a database not accepting connections',
      Object.assign(new Error('database "x" is not currently accepting connections'), {
        code: '55000',
      }),
    ],
    [
      'a query cut by a lost connection',
      new QueryFailedError(
        'SELECT 1',
        [],
        Object.assign(new Error('server closed the connection'), { code: '08006' }),
      ),
    ],
  ])('turns %s into 503 SERVICE_UNAVAILABLE with Retry-After', (_, error) => {
    const { appError, unexpected } = toAppError(error);
    expect(unexpected).toBe(false);
    expect(appError).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, details: null });
    expect(Number(appError.headers['Retry-After'])).toBeGreaterThan(0);
    expect(appError.message).not.toContain('5432');
  });

  it('turns a statement cancelled by the statement timeout into 503 with Retry-After, without its SQL', () => {
    const error = new QueryFailedError(
      'SELECT secret_column FROM projects WHERE id = $1 FOR UPDATE',
      [7],
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
    );
    const { appError, unexpected } = toAppError(error);
    expect(unexpected).toBe(false);
    expect(appError).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      message: 'The database did not answer in time; retry shortly',
      details: null,
    });
    expect(Number(appError.headers['Retry-After'])).toBeGreaterThan(0);
  });

  it('keeps other 55000 errors and query failures unexpected', () => {
    for (const error of [
      new QueryFailedError(
        'SELECT',
        [],
        Object.assign(new Error('cannot refresh'), { code: '55000' }),
      ),
      new QueryFailedError('SELECT', [], Object.assign(new Error('null value'), { code: '23502' })),
    ]) {
      expect(toAppError(error).unexpected).toBe(true);
    }
  });

  it('turns anything else into a 500 that reveals nothing', () => {
    const other = new QueryFailedError(
      'SELECT secret',
      [],
      Object.assign(new Error('boom'), { code: '42P01' }),
    );
    for (const thrown of [
      new Error('secret detail'),
      other,
      'a string',
      fastifyError('FST_ERR_X', 500),
    ]) {
      const { appError, unexpected } = toAppError(thrown);
      expect(unexpected).toBe(true);
      expect(appError).toMatchObject({
        code: 'INTERNAL_ERROR',
        status: 500,
        message: 'An unexpected error occurred',
      });
    }
  });
});
