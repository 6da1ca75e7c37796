import { Ajv, _ } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
import type { OpenAPIV3 } from 'openapi-types';

/**
 * The OpenAPI document compiled once per test run (by global setup) into what the e2e specs
 * check responses against (test/support/response-contract.ts): one CommonJS module holding an
 * ajv validator per distinct response body or header schema (ajv standalone code, so no spec
 * compiles a schema) and the routes, each operation's responses naming their validators.
 */

/** One documented response: its body's validator (null: no body) and its headers'. */
export interface CompiledResponse {
  body: string | null;
  headers: { name: string; validator: string; numeric: boolean }[];
}

export interface CompiledOperation {
  /** `GET /api/v1/keys/{id} (KeysController_get_v1)`, for messages. */
  name: string;
  responses: Record<string, CompiledResponse>;
}

export interface CompiledRoute {
  template: string;
  /** A RegExp source matching the template's concrete paths. */
  pattern: string;
  /** By lowercase method. */
  operations: Record<string, CompiledOperation>;
}

/** What the compiled module exports, besides its validators (`v0`, `v1`, ...). */
export interface CompiledContract {
  routes: CompiledRoute[];
  /** The error body's validator, for 404 and 405 on paths or methods the document lacks. */
  errorBody: string;
}

export interface ValidatorFunction {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; params: unknown }[] | null;
}

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
/** Where component schemas live for ajv: `$ref`s are rewritten to point there. */
const COMPONENTS = 'https://gatehouse.invalid/components/schemas/';
const VALIDATORS = 'https://gatehouse.invalid/validators/';
const ERROR_SCHEMA = { $ref: '#/components/schemas/ErrorResponseDto' };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An OpenAPI 3.0 schema as JSON Schema for ajv: `nullable` becomes a `null` alternative,
 * `example` goes, component `$ref`s point at the components added to ajv, and an object that
 * names its properties is closed (a field the server sends that the document does not name is
 * drift too: clients generate their types from the document).
 */
export function toJsonSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case 'nullable':
      case 'example':
        break;
      case '$ref':
        out.$ref = String(value).replace('#/components/schemas/', COMPONENTS);
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Json).map(([name, property]) => [name, toJsonSchema(property)]),
        );
        break;
      case 'items':
      case 'additionalProperties':
      case 'not':
        out[key] = toJsonSchema(value);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = (value as unknown[]).map(toJsonSchema);
        break;
      default:
        out[key] = value;
    }
  }
  if (out.properties !== undefined && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  if (schema.nullable !== true) return out;
  if (typeof out.type === 'string' && out.allOf === undefined && out.oneOf === undefined) {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    return out;
  }
  return { anyOf: [{ type: 'null' }, out] };
}

/** A RegExp source for a path template; Fastify ignores one trailing slash. */
function templatePattern(template: string): string {
  const literal = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return `^${literal.replace(/\{[^}]+\}/g, '[^/]+')}/?$`;
}

/**
 * Compiles `document` into the source of a CommonJS module exporting `routes`, `errorBody`
 * and one validator function per distinct schema.
 */
export function compileContract(document: OpenAPIV3.Document): string {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  });
  addFormats.default(ajv);
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    ajv.addSchema(toJsonSchema(schema) as Json, `${COMPONENTS}${name}`);
  }
  const resolve = <T>(value: T | OpenAPIV3.ReferenceObject): T => {
    if (!isObject(value) || typeof value.$ref !== 'string') return value as T;
    let node: unknown = document;
    for (const segment of value.$ref.replace(/^#\//, '').split('/')) {
      node = (node as Json)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return resolve(node as T);
  };

  // Many responses share a schema (every error is ErrorResponseDto): one validator each.
  const exportsBySchema = new Map<string, string>();
  const validatorOf = (schema: unknown): string => {
    const jsonSchema = toJsonSchema(resolve(schema));
    const text = JSON.stringify(jsonSchema);
    let name = exportsBySchema.get(text);
    if (name === undefined) {
      name = `v${exportsBySchema.size}`;
      exportsBySchema.set(text, name);
      ajv.addSchema(jsonSchema as Json, `${VALIDATORS}${name}`);
    }
    return name;
  };

  const routes: CompiledRoute[] = Object.entries(document.paths)
    .map(([template, item]) => {
      const operations: Record<string, CompiledOperation> = {};
      for (const method of METHODS) {
        const operation = item?.[method];
        if (operation === undefined) continue;
        const responses: Record<string, CompiledResponse> = {};
        for (const [status, reference] of Object.entries(operation.responses)) {
          const response = resolve<OpenAPIV3.ResponseObject>(reference);
          const schema = response.content?.['application/json']?.schema;
          responses[status] = {
            body: schema === undefined ? null : validatorOf(schema),
            headers: Object.entries(response.headers ?? {}).flatMap(([name, header]) => {
              const headerSchema = resolve<OpenAPIV3.HeaderObject>(header).schema;
              if (headerSchema === undefined) return [];
              const { type } = resolve<OpenAPIV3.SchemaObject>(headerSchema);
              const numeric = type === 'integer' || type === 'number';
              return [{ name, validator: validatorOf(headerSchema), numeric }];
            }),
          };
        }
        const id = operation.operationId ?? 'no operationId';
        operations[method] = { name: `${method.toUpperCase()} ${template} (${id})`, responses };
      }
      return { template, pattern: templatePattern(template), operations };
    })
    // Literal segments win over parameters: /keys/verify before /keys/{id}.
    .sort((a, b) => a.template.split('{').length - b.template.split('{').length);
  const errorBody = validatorOf(ERROR_SCHEMA);

  const exported = Object.fromEntries(
    [...exportsBySchema.values()].map((name) => [name, `${VALIDATORS}${name}`]),
  );
  const code = standaloneCode.default(ajv, exported);
  return `${code}\nexports.routes = ${JSON.stringify(routes)};\nexports.errorBody = ${JSON.stringify(errorBody)};\n`;
}
