import type { FieldError } from './app-error.js';

/**
 * Bounds on what a JSON body may look like, checked once while it is parsed, before anything
 * else (class-transformer, class-validator, the idempotency hash, a service) walks it.
 * Deeper than any DTO (the deepest is a policy set inside a tier inside PUT /rate-limits, 3).
 */
export const MAX_JSON_DEPTH = 32;
/** Keys of one object: endpoint overrides are capped at 100, event properties stay small. */
export const MAX_OBJECT_KEYS = 1_000;
/** Items of one array: batch creation takes 100, event ingestion 1,000. */
export const MAX_ARRAY_ITEMS = 1_000;
/** A validation error body lists at most this many details; its message says how many there were. */
export const MAX_ERROR_DETAILS = 20;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * What is wrong with the shape of JSON `text`, scanned on the raw text before it is parsed:
 * nesting deeper than MAX_JSON_DEPTH, an object with more than MAX_OBJECT_KEYS keys or an
 * array with more than MAX_ARRAY_ITEMS items. Before parsing, because parsing is the cost: a
 * 10 MB body of `[` takes V8 seconds to parse (and overflows a recursive walker's stack), and
 * an object of 100,000 keys takes longer to parse and list than to scan. Assumes nothing about
 * validity: malformed text is left for the parser to refuse.
 */
export function jsonShapeProblem(text: string): string | null {
  let depth = 0;
  let inString = false;
  // Per open container: whether it is an object, and how many commas it holds so far.
  const isObject: boolean[] = [];
  const commas: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === BACKSLASH) i += 1;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === COMMA) {
      if (depth === 0) continue;
      const count = (commas[depth] += 1);
      const max = isObject[depth] ? MAX_OBJECT_KEYS : MAX_ARRAY_ITEMS;
      if (count >= max) {
        return isObject[depth]
          ? `an object must have at most ${MAX_OBJECT_KEYS} properties`
          : `an array must have at most ${MAX_ARRAY_ITEMS} items`;
      }
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) return `JSON must not nest deeper than ${MAX_JSON_DEPTH} levels`;
      isObject[depth] = char === OPEN_BRACE;
      commas[depth] = 0;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      if (depth > 0) depth -= 1;
    }
  }
  return null;
}

/**
 * A NUL (Postgres text cannot hold one) or a lone UTF-16 surrogate (not Unicode: Postgres's
 * JSON and text encoders refuse it). In `u` mode a well-formed surrogate pair is one code
 * point, so `\p{Cs}` matches only a lone half.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/** Why `text` cannot be stored, or null when it can. */
export function unstorableText(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (match === null) return null;
  return match[0] === '\u0000'
    ? 'must not contain NUL characters (\\u0000)'
    : 'must be valid Unicode (no lone UTF-16 surrogates)';
}

function join(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

/** Whether any string or key of `root` cannot be stored: the fast pass, building no paths. */
function holdsUnstorableText(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (UNSTORABLE.test(key)) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Walks a parsed value, without recursion, and returns the first string (value or key) that
 * Postgres cannot store, with its field dotted as class-validator's are (`users.3.email`).
 * Paths are built only when there is one to find. Sizes and depth were checked on the raw
 * text (jsonShapeProblem).
 */
export function findUnstorableText(root: unknown): FieldError | null {
  if (!holdsUnstorableText(root)) return null;
  const stack: [value: unknown, path: string][] = [[root, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      if (problem !== null) return { field: path, message: `${path || 'body'} ${problem}` };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i -= 1) stack.push([value[i], join(path, i)]);
    } else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i -= 1) {
        const key = keys[i];
        const problem = unstorableText(key);
        // The key itself is not echoed: it is what cannot be shown.
        if (problem !== null) return { field: path, message: `a property name ${problem}` };
        stack.push([(value as Record<string, unknown>)[key], join(path, key)]);
      }
    }
  }
  return null;
}
