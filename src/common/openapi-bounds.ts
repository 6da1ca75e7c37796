import { DECORATORS } from '@nestjs/swagger';
import { ValidationTypes, getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';

/** Longest text of a format whose values the server checks (a UUID, an RFC 3339 timestamp). */
export const UUID_LENGTH = 36;
/** `9999-12-31T23:59:59.999999999+23:59`, the longest timestamp IsTimestamp accepts. */
export const TIMESTAMP_MAX_LENGTH = 35;

type Schema = Record<string, unknown>;
type Class = abstract new (...args: never[]) => object;

/**
 * What one class-validator constraint says in OpenAPI terms, for the value itself or (`each`)
 * for each item of an array. Constraints with no counterpart (custom checks) say nothing.
 */
function keywordsOf(meta: ValidationMetadata): Schema {
  const [first, second] = (meta.constraints ?? []) as unknown[];
  switch (meta.name) {
    case 'isLength':
      return { minLength: first, ...(second === undefined ? {} : { maxLength: second }) };
    case 'minLength':
      return { minLength: first };
    case 'maxLength':
      return { maxLength: first };
    case 'arrayMinSize':
      return { minItems: first };
    case 'arrayMaxSize':
      return { maxItems: first };
    case 'min':
      return { minimum: first };
    case 'max':
      return { maximum: first };
    case 'isInt':
      return { type: 'integer' };
    case 'isString':
      return { type: 'string' };
    case 'isBoolean':
      return { type: 'boolean' };
    case 'isEmail':
      return { type: 'string', format: 'email' };
    case 'isUuid':
      return { type: 'string', format: 'uuid', minLength: UUID_LENGTH, maxLength: UUID_LENGTH };
    case 'isTimestamp':
      return { type: 'string', format: 'date-time', maxLength: TIMESTAMP_MAX_LENGTH };
    case 'isUrl':
      return { type: 'string', format: 'uri' };
    case 'isIn':
      return { enum: first };
    case 'matches':
      return first instanceof RegExp ? { pattern: first.source } : {};
    default:
      return {};
  }
}

/** The metadata of every class that carries class-validator constraints (the request DTOs). */
function validatedClasses(): Class[] {
  const storage = getMetadataStorage() as unknown as { validationMetadatas?: unknown };
  if (!(storage.validationMetadatas instanceof Map)) {
    throw new Error('class-validator no longer keeps its metadata in a Map: update openapi-bounds');
  }
  return [...(storage.validationMetadatas as Map<Class, unknown>).keys()];
}

function hasDefault(target: Class, property: string): boolean {
  try {
    const instance = new (target as unknown as new () => Record<string, unknown>)();
    return instance[property] !== undefined;
  } catch {
    return false;
  }
}

/**
 * Makes the OpenAPI schema of every validated class state what its validators enforce, so a
 * bound is written once (the class-validator decorator) and documented from there: lengths,
 * item counts, numeric bounds, integer type, formats, enums, patterns, and `required` (a
 * property is required unless it is optional or has a default). Written into the classes'
 * @nestjs/swagger metadata before the document is built, so schemas and the query and path
 * parameters expanded from the same classes both get it. Idempotent.
 */
export function documentValidationBounds(): void {
  const storage = getMetadataStorage();
  for (const target of validatedClasses()) {
    const metas = storage.getTargetValidationMetadatas(target, '', true, false);
    const byProperty = new Map<string, ValidationMetadata[]>();
    for (const meta of metas) {
      byProperty.set(meta.propertyName, [...(byProperty.get(meta.propertyName) ?? []), meta]);
    }
    for (const [property, propertyMetas] of byProperty) {
      const prototype = target.prototype as object;
      const existing = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, prototype, property) as
        Schema | undefined;
      // Validated but undocumented properties stay undocumented (and so are flagged by review).
      if (existing === undefined) continue;
      const own: Schema = {};
      const items: Schema = {};
      for (const meta of propertyMetas) {
        if (meta.type !== ValidationTypes.CUSTOM_VALIDATION) continue;
        Object.assign(meta.each ? items : own, keywordsOf(meta));
      }
      const optional = propertyMetas.some(
        (meta) => meta.type === ValidationTypes.CONDITIONAL_VALIDATION,
      );
      const merged: Schema = { ...existing, ...own };
      if (merged.type === 'integer' && merged.format === undefined) {
        merged.format = 'int32';
      }
      if (Object.keys(items).length > 0) {
        // `type: [String]` documents the items' type as the constructor, not in `items`.
        const itemType = existing.type === String ? { type: 'string' } : {};
        merged.items = { ...itemType, ...(existing.items as Schema | undefined), ...items };
      }
      merged.required = !optional && !hasDefault(target, property);
      Reflect.defineMetadata(DECORATORS.API_MODEL_PROPERTIES, merged, prototype, property);
    }
  }
}
