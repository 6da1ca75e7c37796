/** Request examples by the schema name of their DTO (the class name, as @nestjs/swagger names it). */
const EXAMPLES = new Map<string, unknown>();

/**
 * The example body of the requests that take this DTO: what /docs shows and pre-fills, so it
 * must work when sent as is (test/openapi-examples.e2e-spec.ts sends every one). Only ids that
 * must exist, and secrets the server issues, are placeholders. `@ApiRequestExample<LoginDto>(...)`.
 */
export function ApiRequestExample<T>(example: Partial<T>): ClassDecorator {
  return (target) => {
    EXAMPLES.set(target.name, example);
  };
}

/** The example of the DTO whose schema is named `schemaName`, if it has one. */
export function requestExampleOf(schemaName: string): unknown {
  return EXAMPLES.get(schemaName);
}
