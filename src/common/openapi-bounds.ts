import { DECORATORS } from '@nestjs/swagger';
import { ValidationTypes, getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata.js';

/** Longest text of a format whose values the server checks (a UUID, an RFC 3339 timestamp). */
export const UUID_LENGTH = 36;
/** `9999-12-31T23:59:59.999999999+23:59`, the longest timestamp IsTimestamp accepts. */
export const TIMESTAMP_MAX_LENGTH = 35;
/**
 * `2026-01-01T00:00:00.000Z`: every timestamp the server answers is Date#toISOString of an
 * instant in years 1-9999 (the only ones IsTimestamp accepts and RFC 3339 can write).
 */
export const ISO_TIMESTAMP_LENGTH = 24;

/**
 * The kinds of response field the server writes itself, each documented one way: spread into
 * `@ApiProperty` (`{ ...UUID_FIELD, nullable: true, type: String }`). A response field that
 * echoes what a request set takes that request's bound instead: `maxLengthOf(Dto, 'field')`.
 */
export const UUID_FIELD = { format: 'uuid', maxLength: UUID_LENGTH } as const;
export const TIMESTAMP_FIELD = {
  format: 'date-time',
  maxLength: ISO_TIMESTAMP_LENGTH,
  example: '2026-01-01T00:00:00.000Z',
} as const;

type Schema = Record<string, unknown>;
type Class = abstract new (...args: never[]) => object;

/** `{3,64}`, `{2}`, `?`, `*`, `+` (each maybe lazy) at the start of `text`. */
const QUANTIFIER = /^(?:\{(\d+)(?:,(\d*))?\}|[?*+])\??/;

/**
 * The longest string an anchored pattern made of single-character atoms can match
 * (`^[a-z0-9][a-z0-9-]{0,62}$` -> 63), or undefined when it is unbounded (`*`, `+`, `{n,}`)
 * or beyond this reading (groups, alternation, backreferences). Over-counting is safe (an
 * escape such as `\u0041` counts more than one), under-counting never happens.
 */
export function patternMaxLength(pattern: RegExp): number | undefined {
  const source = pattern.source;
  if (pattern.multiline || !source.startsWith('^') || !/(^|[^\\])\$$/.test(source)) {
    return undefined;
  }
  const end = source.length - 1;
  let total = 0;
  for (let i = 1; i < end;) {
    const char = source[i];
    if (char === '[') {
      i += source[i + 1] === '^' ? 2 : 1;
      if (source[i] === ']') i += 1;
      while (i < end && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      if (i >= end) return undefined;
      i += 1;
    } else if (char === '\\') {
      if (/[1-9k]/.test(source[i + 1] ?? '')) return undefined;
      i += 2;
    } else if (char === undefined || '()|{}*+?'.includes(char)) {
      return undefined;
    } else {
      i += 1;
    }
    const quantifier = QUANTIFIER.exec(source.slice(i, end));
    if (quantifier === null) {
      total += 1;
      continue;
    }
    const [text, min, max] = quantifier;
    if (text.startsWith('*') || text.startsWith('+') || max === '') return undefined;
    total += text.startsWith('?') ? 1 : Number(max ?? min);
    i += text.length;
  }
  return total;
}

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
    case 'matches': {
      if (!(first instanceof RegExp)) return {};
      const maxLength = patternMaxLength(first);
      return { pattern: first.source, ...(maxLength === undefined ? {} : { maxLength }) };
    }
    default:
      return {};
  }
}

/** What the validators of one property say, `each` ones aside; the tightest maxLength wins. */
function propertyKeywords(metas: ValidationMetadata[]): Schema {
  const own: Schema = {};
  for (const meta of metas) {
    if (meta.type !== ValidationTypes.CUSTOM_VALIDATION || meta.each === true) continue;
    const keywords = keywordsOf(meta);
    if (typeof own.maxLength === 'number' && typeof keywords.maxLength === 'number') {
      keywords.maxLength = Math.min(own.maxLength, keywords.maxLength);
    }
    Object.assign(own, keywords);
  }
  return own;
}

/**
 * `{ maxLength }` of a request DTO's property, as its validators enforce it: for a response
 * field that holds what that request set (a user's email, a key's name), so the document
 * states one bound for both. Throws when the property has no length bound (or the class is
 * not loaded yet), so a wrong reference fails at start, not silently.
 */
export function maxLengthOf(target: Class, property: string): { maxLength: number } {
  const metas = getMetadataStorage()
    .getTargetValidationMetadatas(target, '', true, false)
    .filter((meta) => meta.propertyName === property);
  const { maxLength } = propertyKeywords(metas);
  if (typeof maxLength !== 'number') {
    throw new Error(`${target.name}.${property} has no validated maximum length to document`);
  }
  return { maxLength };
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
      const own = propertyKeywords(propertyMetas);
      const items: Schema = {};
      for (const meta of propertyMetas) {
        if (meta.type !== ValidationTypes.CUSTOM_VALIDATION || meta.each !== true) continue;
        Object.assign(items, keywordsOf(meta));
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
