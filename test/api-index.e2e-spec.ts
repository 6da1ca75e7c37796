import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIV3 } from 'openapi-types';
import { type TestApp, startApp } from './support/test-app.js';

interface IndexBody {
  data: { name: string; version: string; links: Record<string, string> };
}

describe('GET /api/v1', () => {
  const publicUrl = 'https://gatehouse.example.com';
  let api: TestApp;

  beforeAll(async () => {
    api = await startApp({ env: { PUBLIC_URL: publicUrl } });
  });

  afterAll(async () => {
    await api.close();
  });

  it('answers anyone with the links to the docs, OpenAPI, health and the versions', async () => {
    for (const path of ['/api/v1', '/api/v1/']) {
      const response = await api.call(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      const body = (await response.json()) as IndexBody;
      expect(body).toEqual({
        data: {
          name: 'Gatehouse API',
          version: 'v1',
          links: {
            docs: `${publicUrl}/docs`,
            openapi: `${publicUrl}/openapi.json`,
            health: `${publicUrl}/health/ready`,
            versions: `${publicUrl}/api/v1/versions`,
          },
        },
      });
    }
  });

  it('each link answers 200 on this api', async () => {
    const body = (await (await api.call('/api/v1')).json()) as IndexBody;
    for (const link of Object.values(body.data.links)) {
      const response = await api.call(link.replace(publicUrl, ''));
      expect({ link, status: response.status }).toEqual({ link, status: 200 });
    }
  });

  it('is documented as a public operation with its response schema', async () => {
    const document = (await (await api.call('/openapi.json')).json()) as OpenAPIV3.Document;
    const operation = document.paths['/api/v1']?.get;
    expect(operation?.security ?? []).toEqual([]);
    const ok = operation?.responses['200'] as OpenAPIV3.ResponseObject | undefined;
    expect(ok?.content?.['application/json']?.schema).toEqual({
      type: 'object',
      required: ['data'],
      properties: { data: { $ref: '#/components/schemas/ApiIndexResponse' } },
    });
    const schema = document.components?.schemas?.ApiIndexResponse as OpenAPIV3.SchemaObject;
    expect(schema.required).toEqual(['name', 'version', 'links']);
    const links = document.components?.schemas?.ApiIndexLinks as OpenAPIV3.SchemaObject;
    expect(Object.keys(links.properties ?? {})).toEqual(['docs', 'openapi', 'health', 'versions']);
  });
});
