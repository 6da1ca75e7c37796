import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIV3 } from 'openapi-types';
import { AppError, ERROR_CODES, type ErrorCode } from '../src/common/app-error.js';
import { type IsolatedDatabase, isolatedDatabase } from './support/isolated-database.js';
import { type Account, addMember, as, registerOwner } from './support/identity.js';
import { registerPlatformAdmin } from './support/platform-admin.js';
import { type TestApp, json, startApp } from './support/test-app.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** Operations whose example is sent with a key of exactly the documented permission, today. */
const SENT_WITH_KEYS = 25;

interface Operation {
  method: (typeof METHODS)[number];
  path: string;
  operation: OpenAPIV3.OperationObject;
}

/**
 * What one operation needs before its examples can be sent. Everything is sent as /docs shows
 * it, except what no example can know in advance, which is substituted:
 * - path parameters naming a resource that must exist (`{id}`, `{user_id}`, and `{version}` for
 *   DELETE, whose example `v1` may not be deleted): one created first, for the same caller;
 * - a body's id that must be the caller's own (a quota's `organization_id`), and the secrets
 *   the server issues (`refresh_token`, `reset_token`): real ones.
 * Path parameters with an example (`v1`) and every query example are sent as they are.
 */
interface Setup {
  /**
   * Who sends it: a fresh owner (default: through a key of exactly the operation's permission
   * when the operation takes keys), the owner in person (what only a person may do, like
   * giving an account a password), a fresh platform administrator, or nobody.
   */
  caller?: 'owner' | 'person' | 'platform' | 'anonymous';
  path?: (caller: Account) => Promise<Record<string, string>>;
  body?: (caller: Account) => Promise<Record<string, unknown>>;
  /** More than the status: what a 200 that still failed inside would hide. */
  check?: (body: unknown) => void;
}

describe('OpenAPI examples', () => {
  let isolated: IsolatedDatabase;
  let api: TestApp;
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    // A database of its own: the examples use fixed names (ada, v2, analytical-engines).
    isolated = await isolatedDatabase('examples');
    api = await startApp({
      env: {
        DATABASE_URL: isolated.url,
        REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? 'gh-test:'}examples:`,
        QUEUE_PREFIX: `${process.env.QUEUE_PREFIX ?? 'gh-test'}-examples`,
      },
    });
    document = (await (await api.call('/openapi.json')).json()) as OpenAPIV3.Document;
  });

  afterAll(async () => {
    await api?.close();
    await isolated?.drop();
  });

  function operations(): Operation[] {
    return Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const operation = item?.[method];
        return operation === undefined ? [] : [{ method, path, operation }];
      }),
    );
  }

  const parametersOf = (operation: OpenAPIV3.OperationObject) =>
    (operation.parameters ?? []) as OpenAPIV3.ParameterObject[];
  const exampleOf = (parameter: OpenAPIV3.ParameterObject): unknown =>
    parameter.example ?? (parameter.schema as OpenAPIV3.SchemaObject | undefined)?.example;
  const bodyExampleOf = (operation: OpenAPIV3.OperationObject): unknown =>
    (operation.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content['application/json']
      ?.example;
  /** A body that is not JSON (a Sentry envelope): its media type and its schema's example. */
  const rawExampleOf = (
    operation: OpenAPIV3.OperationObject,
  ): { mediaType: string; example: string } | undefined => {
    const content = (operation.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content;
    for (const [mediaType, media] of Object.entries(content ?? {})) {
      const example = (media.schema as OpenAPIV3.SchemaObject | undefined)?.example as unknown;
      if (mediaType !== 'application/json' && typeof example === 'string')
        return { mediaType, example };
    }
    return undefined;
  };

  async function created(caller: Account, path: string, body: unknown): Promise<string> {
    const response = await api.call(path, as(caller, 'POST', body));
    expect(response.status).toBe(201);
    return String(((await response.json()) as { data: { id: string | number } }).data.id);
  }
  const newKey = (caller: Account) =>
    created(caller, '/api/v1/keys', {
      name: 'k',
      environment: 'test',
      permissions: ['users:read'],
    });
  const member = async (caller: Account) => (await addMember(api, caller, 'member')).userId;
  const ownOrganization = (caller: Account) => Promise.resolve({ id: caller.organizationId });
  const newProject = async (caller: Account) => ({
    id: await created(caller, '/api/v1/projects', { name: 'p' }),
  });
  /** A project of the caller's, and its DSN's public key (what a Sentry SDK sends). */
  const newProjectDsn = async (caller: Account) => {
    const response = await api.call('/api/v1/projects', as(caller, 'POST', { name: 'p' }));
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: { id: number; public_key: string } };
    return { project_id: String(data.id), sentry_key: data.public_key };
  };
  const newWebhook = async (caller: Account) => ({
    id: await created(caller, '/api/v1/webhooks', {
      url: 'https://203.0.113.10/webhooks/gatehouse',
      events: ['*'],
    }),
  });
  const freshRefreshToken = async () => ({
    refresh_token: (await registerOwner(api, 'examples')).refreshToken,
  });

  const SETUP: Record<string, Setup> = {
    'POST /api/v1/auth/register': { caller: 'anonymous' },
    'POST /api/v1/auth/login': { caller: 'anonymous' },
    'POST /api/v1/auth/refresh': { caller: 'anonymous', body: freshRefreshToken },
    'POST /api/v1/auth/logout': { caller: 'anonymous', body: freshRefreshToken },
    'POST /api/v1/auth/password-reset': {
      caller: 'anonymous',
      body: async () => {
        const owner = await registerOwner(api, 'examples');
        const issued = await api.call(
          `/api/v1/users/${await member(owner)}/password-reset`,
          as(owner, 'POST'),
        );
        expect(issued.status).toBe(201);
        const { data } = (await issued.json()) as { data: { reset_token: string } };
        return { reset_token: data.reset_token };
      },
    },
    // The example gives one account a password: a person's decision, never a key's (403).
    'POST /api/v1/users/batch': {
      caller: 'person',
      check: (body) => {
        const { data } = body as { data: { status: number }[] };
        expect(data.map((item) => item.status)).toEqual(data.map(() => 201));
      },
    },
    'PUT /api/v1/users/{id}': { path: async (caller) => ({ id: await member(caller) }) },
    'PATCH /api/v1/users/{id}': { path: async (caller) => ({ id: await member(caller) }) },
    // A key gives only permissions it holds itself: these examples grant more than keys:write.
    'POST /api/v1/keys': { caller: 'person' },
    'PUT /api/v1/keys/{id}': {
      caller: 'person',
      path: async (caller) => ({ id: await newKey(caller) }),
    },
    'PATCH /api/v1/keys/{id}': { path: async (caller) => ({ id: await newKey(caller) }) },
    // Rotating hands over the key's secret: only a caller holding the key's permissions may.
    'POST /api/v1/keys/{id}/rotate': {
      caller: 'person',
      path: async (caller) => ({ id: await newKey(caller) }),
    },
    'GET /api/v1/keys/{id}/usage': { path: async (caller) => ({ id: await newKey(caller) }) },
    // A filter by a key of another organization (the example's) is a 404: the caller's own.
    'GET /api/v1/analytics/rate-limits': {
      path: async (caller) => ({ api_key_id: await newKey(caller) }),
    },
    'GET /api/v1/analytics/usage': {
      path: async (caller) => ({ api_key_id: await newKey(caller) }),
    },
    'POST /api/v1/quotas': {
      body: (caller) => Promise.resolve({ organization_id: caller.organizationId }),
    },
    'PATCH /api/v1/quotas/{id}': {
      path: async (caller) => ({
        id: await created(caller, '/api/v1/quotas', {
          organization_id: caller.organizationId,
          period: 'daily',
          max_requests: 10,
        }),
      }),
    },
    'PUT /api/v1/organizations/{id}': { path: ownOrganization },
    'PATCH /api/v1/organizations/{id}': { path: ownOrganization },
    'GET /api/v1/organizations/{id}/members': { path: ownOrganization },
    // Roles are given by people (a key's call is a 403): these examples give one.
    'POST /api/v1/users': { caller: 'person' },
    'POST /api/v1/organizations/{id}/members': { caller: 'person', path: ownOrganization },
    'PATCH /api/v1/organizations/{id}/members/{user_id}': {
      caller: 'person',
      path: async (caller) => ({ id: caller.organizationId, user_id: await member(caller) }),
    },
    'GET /api/v1/projects/{id}': { path: newProject },
    'PUT /api/v1/projects/{id}': { path: newProject },
    'PATCH /api/v1/projects/{id}': { path: newProject },
    'DELETE /api/v1/projects/{id}': { path: newProject },
    'GET /api/v1/projects/{id}/events': { path: newProject },
    'GET /api/v1/projects/{id}/issues': { path: newProject },
    'PATCH /api/v1/webhooks/{id}': { path: newWebhook },
    'POST /api/{project_id}/envelope': { path: newProjectDsn },
    'POST /api/v1/{project_id}/envelope': { path: newProjectDsn },
    'GET /api/v1/webhooks/{id}/deliveries': { path: newWebhook },
    'POST /api/v1/versions': { caller: 'platform' },
    'PATCH /api/v1/versions/{version}': { caller: 'platform' },
    'DELETE /api/v1/versions/{version}': {
      caller: 'platform',
      path: async (caller) => {
        const version = `v${Date.now() % 1_000_000_000}`;
        const response = await api.call(
          '/api/v1/versions',
          as(caller, 'POST', { version, status: 'beta' }),
        );
        expect(response.status).toBe(201);
        return { version };
      },
    },
  };

  /**
   * The narrowest credential the document says is enough: for an operation that takes API
   * keys, a fresh key of the owner's holding only the operation's `x-required-permission`;
   * otherwise the caller's own token.
   */
  let sentWithKeys = 0;
  async function credentialFor(
    caller: Account,
    operation: OpenAPIV3.OperationObject,
    role: Setup['caller'],
  ): Promise<Record<string, string>> {
    const permission = (operation as { 'x-required-permission'?: string })['x-required-permission'];
    const takesKeys = (operation.security ?? []).some((scheme) => 'api_key' in scheme);
    if (role === 'platform' || role === 'person' || permission === undefined || !takesKeys)
      return caller.auth;
    const created = await api.call(
      '/api/v1/keys',
      as(caller, 'POST', { name: 'example', environment: 'test', permissions: [permission] }),
    );
    expect(created.status).toBe(201);
    sentWithKeys += 1;
    return { 'x-api-key': ((await created.json()) as { data: { key: string } }).data.key };
  }

  it('answers every request example as documented, sent as is with the narrowest credential', async () => {
    const withExamples = operations().filter(
      ({ operation }) =>
        bodyExampleOf(operation) !== undefined ||
        rawExampleOf(operation) !== undefined ||
        parametersOf(operation).some((parameter) => exampleOf(parameter) !== undefined),
    );
    // Registering first: the login and invitation examples are about the account it makes.
    const register = withExamples.filter(({ path }) => path === '/api/v1/auth/register');
    const ordered = [...register, ...withExamples.filter((op) => !register.includes(op))];
    const failures: string[] = [];
    for (const { method, path, operation } of ordered) {
      const route = `${method.toUpperCase()} ${path}`;
      const setup = SETUP[route] ?? {};
      const caller =
        setup.caller === 'anonymous'
          ? undefined
          : setup.caller === 'platform'
            ? await registerPlatformAdmin(api)
            : await registerOwner(api, 'examples');
      const ids = caller !== undefined && setup.path ? await setup.path(caller) : {};
      let url = path;
      const query = new URLSearchParams();
      for (const parameter of parametersOf(operation)) {
        const value = ids[parameter.name] ?? exampleOf(parameter);
        if (parameter.in === 'path') {
          if (value === undefined) failures.push(`${route}: nothing to put in {${parameter.name}}`);
          url = url.replace(`{${parameter.name}}`, encodeURIComponent(String(value)));
        } else if (parameter.in === 'query' && value !== undefined) {
          query.set(parameter.name, String(value));
        }
      }
      if (query.size > 0) url = `${url}?${query.toString()}`;
      const example = bodyExampleOf(operation);
      const substituted = setup.body ? await setup.body(caller as Account) : {};
      const headers =
        caller === undefined ? {} : await credentialFor(caller, operation, setup.caller);
      const raw = rawExampleOf(operation);
      const response = await api.call(
        url,
        raw !== undefined
          ? {
              method: method.toUpperCase(),
              headers: { ...headers, 'content-type': raw.mediaType },
              body: raw.example,
            }
          : example === undefined
            ? { method: method.toUpperCase(), headers }
            : json(method.toUpperCase(), { ...(example as object), ...substituted }, headers),
      );
      const documented = Object.keys(operation.responses).filter((status) => /^2/.test(status));
      const text = await response.text();
      if (!documented.includes(String(response.status))) {
        failures.push(
          `${route} -> ${url}: ${response.status}, documented ${documented.join(', ')}: ${text}`,
        );
      } else if (setup.check) {
        setup.check(JSON.parse(text));
      }
    }
    expect(failures).toEqual([]);
    // Today: 28 request bodies (the document build requires an example for each) and 15
    // operations with parameter examples only (lists, filters, {version}, a project's {id}),
    // and the events lists (3) and a project's issues.
    expect(ordered.length).toBeGreaterThanOrEqual(47);
    // Most of them through a key of that one permission (the rest: people's calls, above).
    expect(sentWithKeys).toBeGreaterThanOrEqual(SENT_WITH_KEYS);
    // Some 200 requests, one after another: each example has a new account of its own.
  }, 180_000);

  it("shows, under each error status, only codes that this status answers with (the error classes' own mapping)", () => {
    /** The status the server answers a code with: what AppError, the only error body's source, sets. */
    const statusOf = (code: string) =>
      (ERROR_CODES as string[]).includes(code)
        ? Number(new AppError(code as ErrorCode, '').status)
        : null;
    const wrong: string[] = [];
    let checked = 0;
    for (const { method, path, operation } of operations()) {
      const statuses = Object.keys(operation.responses).filter((s) => /^\d{3}$/.test(s));
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!/^[45]\d\d$/.test(status) && status !== 'default') continue;
        const examples = (response as OpenAPIV3.ResponseObject).content?.['application/json']
          ?.examples as Record<string, { value: { error: { code: string } } }> | undefined;
        const codes = Object.values(examples ?? {}).map((example) => example.value.error.code);
        const where = `${method.toUpperCase()} ${path} ${status}`;
        if (codes.length === 0) wrong.push(`${where}: no example`);
        for (const code of codes) {
          checked += 1;
          const answered = statusOf(code);
          // `default` stands for the statuses the operation does not list.
          const fits =
            status === 'default'
              ? answered !== null && !statuses.includes(String(answered))
              : answered === Number(status);
          if (!fits) wrong.push(`${where}: ${code} is answered with ${answered}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });
});
