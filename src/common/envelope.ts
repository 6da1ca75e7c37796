import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiResponse,
  type ReferenceObject,
  type SchemaObject,
  getSchemaPath,
} from '@nestjs/swagger';
import { MAX_LIMIT, MAX_OFFSET, type PageQuery } from './pagination.js';

/** A single resource on the wire: `{"data": {...}}`. */
export interface Data<T> {
  data: T;
}

/** A list on the wire: `{"data": [...], "total": N, "limit": L, "offset": O}`. */
export interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}

export function data<T>(value: T): Data<T> {
  return { data: value };
}

export function page<T>(items: T[], total: number, query: PageQuery): Page<T> {
  return { data: items, total, limit: query.limit, offset: query.offset };
}

/** Documents a `{data}` response whose `data` is `schema` (naming `model`). */
function ApiDataEnvelope(
  model: Type<unknown>,
  schema: SchemaObject | ReferenceObject,
  status: number,
  description: string,
) {
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status,
      description,
      schema: { type: 'object', required: ['data'], properties: { data: schema } },
    }),
  );
}

/** Documents a `{data}` response of `model` (201 for creates, 200 otherwise). */
export function ApiDataResponse(model: Type<unknown>, status = 200, description = 'OK') {
  return ApiDataEnvelope(model, { $ref: getSchemaPath(model) }, status, description);
}

/** Documents a `{data: [...]}` response of up to `maxItems` `model`s (a batch's results). */
export function ApiDataListResponse(
  model: Type<unknown>,
  maxItems: number,
  status = 200,
  description = 'OK',
) {
  const list: SchemaObject = { type: 'array', items: { $ref: getSchemaPath(model) }, maxItems };
  return ApiDataEnvelope(model, list, status, description);
}

/** Documents a paginated `{data, total, limit, offset}` response of `model`. */
export function ApiPageResponse(model: Type<unknown>, description = 'OK') {
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status: 200,
      description,
      schema: {
        type: 'object',
        required: ['data', 'total', 'limit', 'offset'],
        properties: {
          data: { type: 'array', items: { $ref: getSchemaPath(model) }, maxItems: MAX_LIMIT },
          total: {
            type: 'integer',
            format: 'int64',
            minimum: 0,
            maximum: Number.MAX_SAFE_INTEGER,
            example: 1,
          },
          limit: { type: 'integer', format: 'int32', minimum: 1, maximum: MAX_LIMIT, example: 20 },
          offset: { type: 'integer', format: 'int32', minimum: 0, maximum: MAX_OFFSET, example: 0 },
        },
      },
    }),
  );
}
