import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { OpenAPIV3 } from 'openapi-types';
import { DataSource } from 'typeorm';
import { type Account, as, login, registerOwner } from './support/identity.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type TestApp, startApp } from './support/test-app.js';

type Schema = OpenAPIV3.SchemaObject | OpenAPIV3.ReferenceObject;

/** Bodies per route: ~30 write routes, so a run stays well under 20 s. */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 25);
const HIGH = { limit: 1_000_000_000 };

/** Values that broke the api before (issue 9, section 7) or sit on a bound. */
const nasty = fc.constantFrom<unknown>(
  null,
  0,
  -1,
  1.5,
  2_147_483_647,
  2_147_483_648,
  1e21,
  -1e308,
  '',
  ' ',
  'a\u0000b',
  'a\ud800b',
  '\udc00',
  'x'.repeat(5_000),
  true,
  [],
  {},
  [null],
  '2026-01-01T00:00:00.000Z',
  '0000-00-00T00:00:00Z',
  randomUUID(),
  'sk_live_x',
  '/api/v1/users',
  '../../etc/passwd',
  "'; DROP TABLE users; --",
);

const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }),
);

/** Random bodies shaped like the route's schema: its field names, values of any kind. */
function shaped(
  schema: Schema | undefined,
  document: OpenAPIV3.Document,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 3) return fc.oneof(nasty, anyJson);
  if ('$ref' in schema) {
    const name = schema.$ref.split('/').pop() ?? '';
    return shaped(document.components?.schemas?.[name], document, depth);
  }
  const wild = fc.oneof(nasty, anyJson);
  if (schema.allOf !== undefined) return shaped(schema.allOf[0], document, depth);
  if (schema.enum !== undefined)
    return fc.oneof(fc.constantFrom(...(schema.enum as unknown[])), wild);
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -1e6;
      const max = schema.maximum ?? 1e6;
      return fc.oneof(
        fc.constantFrom(min - 1, min, max, max + 1),
        fc.integer({
          min: Math.max(min - 10, -2_147_483_648),
          max: Math.min(max + 10, 2_147_483_647),
        }),
        wild,
      );
    }
    case 'string':
      return fc.oneof(
        schema.format === 'uuid' ? fc.uuid() : fc.string({ maxLength: 40, unit: 'binary' }),
        wild,
      );
    case 'array':
      return fc.oneof(fc.array(shaped(schema.items, document, depth + 1), { maxLength: 4 }), wild);
    case 'object':
    case undefined: {
      const properties = Object.entries(schema.properties ?? {});
      const additional =
        typeof schema.additionalProperties === 'object'
          ? fc.dictionary(
              fc.constantFrom(
                'second',
                'minute',
                'hour',
                'day',
                'free',
                'professional',
                '/api/v1/users',
                'x',
              ),
              shaped(schema.additionalProperties, document, depth + 1),
              { maxKeys: 3 },
            )
          : fc.constant({});
      if (properties.length === 0) return fc.oneof(additional, wild);
      const record = fc.record(
        Object.fromEntries(
          properties.map(([key, value]) => [key, shaped(value, document, depth + 1)]),
        ),
        { requiredKeys: [] },
      );
      return fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: wild });
    }
    default:
      return wild;
  }
}

interface Route {
  method: string;
  path: string;
  schema: Schema | undefined;
}

function writeRoutes(document: OpenAPIV3.Document): Route[] {
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['post', 'put', 'patch'] as const) {
      const operation = item?.[method];
      if (operation === undefined) continue;
      const body = operation.requestBody as OpenAPIV3.RequestBodyObject | undefined;
      routes.push({
        method: method.toUpperCase(),
        path,
        schema: body?.content['application/json']?.schema,
      });
    }
  }
  return routes;
}

/**
 * Random JSON at the body of every write route (issue 9, section 7): no answer is a 5xx and
 * the process is alive afterwards. Routes come from the app's own OpenAPI document, so a new
 * route is fuzzed without touching this file. On a database and Redis prefix of its own: the
 * platform administrator raises the global and tier limits so bodies reach validation.
 */
describe('fuzzing every write route with random JSON bodies', () => {
  let isolated: IsolatedDatabase;
  let api: TestApp;
  let owner: Account;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    isolated = await isolatedDatabase('fuzz');
    const prefix = process.env.REDIS_PREFIX ?? 'gh-test:';
    api = await startApp({
      env: {
        DATABASE_URL: isolated.url,
        REDIS_PREFIX: `${prefix}fuzz:`,
        QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-fuzz`,
      },
    });
    const registered = await registerOwner(api, 'fuzz');
    await api.app
      .get(DataSource)
      .query('UPDATE users SET is_platform_admin = true WHERE id = $1', [registered.userId]);
    owner = await login(api, registered.username);
    const tiers = Object.fromEntries(
      ['free', 'standard', 'professional', 'enterprise'].map((tier) => [
        tier,
        { minute: HIGH, hour: HIGH },
      ]),
    );
    const limits = await api.call(
      '/api/v1/rate-limits',
      as(owner, 'PUT', { global: { minute: HIGH, hour: HIGH }, tiers }),
    );
    expect(limits.status).toBe(200);

    const create = async (path: string, body: unknown): Promise<string> => {
      const response = await api.call(path, as(owner, 'POST', body));
      expect(response.status).toBe(201);
      return String(((await response.json()) as { data: { id: string | number } }).data.id);
    };
    ids.projects = await create('/api/v1/projects', { name: 'fuzzed' });
    ids.keys = await create('/api/v1/keys', {
      name: 'fuzzed',
      environment: 'live',
      permissions: ['users:read'],
    });
    ids.quotas = await create('/api/v1/quotas', {
      period: 'daily',
      max_requests: 10,
      api_key_id: ids.keys,
    });
    ids.users = await create('/api/v1/users', {
      username: 'fuzz_member',
      email: 'fuzz_member@example.com',
      role: 'member',
    });
    ids.organizations = owner.organizationId;
    const version = await api.call(
      '/api/v1/versions',
      as(owner, 'POST', { version: 'v9', status: 'beta' }),
    );
    expect(version.status).toBe(201);
  });

  afterAll(async () => {
    await api?.close();
    await isolated?.drop();
  });

  /** A path with its parameters filled: existing resources, so valid bodies reach the database. */
  function concrete(path: string): string {
    return path.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (name === 'version') return 'v9';
      if (name === 'user_id') return ids.users;
      const collection = /\/api\/v1\/(\w+)\/\{/.exec(path)?.[1] ?? '';
      return ids[collection] ?? randomUUID();
    });
  }

  it(
    'answers no 5xx to any of them, and stays live',
    async () => {
      const document = (await (await api.call('/openapi.json')).json()) as OpenAPIV3.Document;
      const routes = writeRoutes(document);
      expect(routes.length).toBeGreaterThan(20);
      const failures: string[] = [];
      const statuses = new Map<string, number>();
      for (const route of routes) {
        const body = fc.oneof(
          { weight: 3, arbitrary: shaped(route.schema, document) },
          { weight: 1, arbitrary: anyJson },
        );
        try {
          await fc.assert(
            fc.asyncProperty(body, async (value) => {
              const response = await api.call(concrete(route.path), {
                method: route.method,
                body: JSON.stringify(value),
                headers: { 'content-type': 'application/json', ...owner.auth },
              });
              const text = await response.text();
              const key = `${route.method} ${route.path} ${response.status}`;
              statuses.set(key, (statuses.get(key) ?? 0) + 1);
              if (response.status >= 500) throw new Error(`${response.status} ${text}`);
            }),
            { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
          );
        } catch (error) {
          failures.push(
            `${route.method} ${route.path}: ${(error as Error).message.slice(0, 2_000)}`,
          );
        }
      }
      if (process.env.FUZZ_VERBOSE !== undefined)
        process.stdout.write(`${[...statuses].join('\n')}\n`);
      expect(failures).toEqual([]);
      expect((await api.call('/health/live')).status).toBe(200);
    },
    60_000 + RUNS_PER_ROUTE * 3_000,
  );
});
