import { afterAll, describe, expect, it } from '@jest/globals';
import { MetricsListener } from '../src/modules/metrics/metrics-listener.js';
import { registerOwner } from './support/identity.js';
import { type TestApp, startApp } from './support/test-app.js';

const TOKEN = 'scrape-token-0123456789abcdef';
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

const apps: TestApp[] = [];
async function start(env: Record<string, string>): Promise<TestApp> {
  const app = await startApp({ env });
  apps.push(app);
  return app;
}

function listenerUrl(app: TestApp): string {
  const address = app.app.get(MetricsListener).address();
  if (address === null) throw new Error('no metrics listener');
  return `http://${address.host}:${address.port}`;
}

async function expectMetrics(response: Response): Promise<void> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  expect(await response.text()).toContain('gatehouse_http_requests_total');
}

describe('/metrics is not served anonymously on the public port', () => {
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('with neither METRICS_PORT nor METRICS_TOKEN: 404 on the public port, like any unknown path', async () => {
    const api = await start({});
    const response = await api.call('/metrics');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'RESOURCE_NOT_FOUND',
    );
    expect(api.app.get(MetricsListener).address()).toBeNull();
  });

  it('METRICS_TOKEN: the public port serves it to that bearer token only', async () => {
    const api = await start({ METRICS_TOKEN: TOKEN });
    const owner = await registerOwner(api);
    for (const init of [{}, bearer('wrong-token-0123456789abcdef'), { headers: owner.auth }]) {
      const refused = await api.call('/metrics', init);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Bearer');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'AUTHENTICATION_FAILED',
      );
    }
    await expectMetrics(await api.call('/metrics', bearer(TOKEN)));
  });

  it('METRICS_PORT: a listener of its own on METRICS_HOST serves it, and the public port does not', async () => {
    const api = await start({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
    await api.call('/health/live');
    const url = listenerUrl(api);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expectMetrics(await fetch(`${url}/metrics`));
    expect((await fetch(`${url}/health/live`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await api.call('/metrics')).status).toBe(404);

    // The listener closes with the app.
    await api.close();
    apps.splice(apps.indexOf(api), 1);
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });

  it('METRICS_PORT with METRICS_TOKEN: the listener asks for the token too', async () => {
    const api = await start({ METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
    const url = listenerUrl(api);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    await expectMetrics(await fetch(`${url}/metrics`, bearer(TOKEN)));
    await expectMetrics(await api.call('/metrics', bearer(TOKEN)));
  });
});
