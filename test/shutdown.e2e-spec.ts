import { describe, expect, it } from '@jest/globals';
import { ProbeController, ProbeModule } from './support/probe.module.js';
import { json, startApp } from './support/test-app.js';
import { eventually } from './support/wait.js';

describe('graceful shutdown and CORS', () => {
  it('finishes an in-flight request when the app closes, then refuses new connections', async () => {
    const api = await startApp({ imports: [ProbeModule] });
    const probe = api.app.get(ProbeController);
    const inFlight = api.call('/api/v1/probe/slow', json('POST', { delay_ms: 800 }));
    // Close only once the request is inside its handler.
    await eventually(async () => {
      expect(probe.invocations).toBe(1);
      await Promise.resolve();
    });
    const closing = api.close();

    const response = await inFlight;
    expect(response.status).toBe(201);
    await closing;
    await expect(api.call('/health/live')).rejects.toThrow();
  });

  it('answers CORS preflights only for CORS_ORIGINS', async () => {
    const api = await startApp({ env: { CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const preflight = (origin: string) =>
        api.call('/api/v1/probe', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      const other = await preflight('https://evil.example.com');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const simple = await api.call('/health', { headers: { origin: 'https://app.example.com' } });
      expect(simple.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    } finally {
      await api.close();
    }
  });
});
