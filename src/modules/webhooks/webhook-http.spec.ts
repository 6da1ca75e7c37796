import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type WebhookAgents, postOnce, webhookAgents } from './webhook-http.js';
import { WebhookUrlRefused, guardedLookup } from './webhook-url-guard.js';

describe('postOnce (one delivery attempt, against a local server)', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      request.resume();
      if (request.url === '/redirect') {
        response.writeHead(302, { location: '/target' }).end();
      } else if (request.url === '/large') {
        response.writeHead(200).end('é'.repeat(2_000));
      } else if (request.url === '/nul') {
        response.writeHead(500).end('a\u0000b');
      } else if (request.url === '/slow') {
        // Never answers: the attempt's timeout ends it.
      } else {
        response.writeHead(204).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const agents: WebhookAgents[] = [];
  afterAll(() => agents.forEach((pair) => pair.destroy()));

  /** Fresh agents each time, unless `shared` (kept-alive connections) is given. */
  const options = (timeoutMs = 5_000, allowPrivate = true, shared?: WebhookAgents) => {
    const pair = shared ?? webhookAgents(guardedLookup(allowPrivate));
    agents.push(pair);
    return { headers: { 'webhook-id': 'evt_1' }, timeoutMs, agents: pair };
  };

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const result = await postOnce(new URL(`${base}/redirect`), '{}', options());
    expect(result.status).toBe(302);
    expect(hits.filter((hit) => hit === '/target')).toEqual([]);
  });

  it('keeps only the first 1 KB of the body, never half a character', async () => {
    const result = await postOnce(new URL(`${base}/large`), '{}', options());
    expect(result.status).toBe(200);
    expect(Buffer.byteLength(result.body)).toBeLessThanOrEqual(1_024);
    expect(result.body).toBe('é'.repeat(512));
  });

  it('drops NUL characters (a Postgres text column refuses them)', async () => {
    expect(await postOnce(new URL(`${base}/nul`), '{}', options())).toEqual({
      status: 500,
      body: 'ab',
    });
  });

  it('gives up at the timeout', async () => {
    await expect(postOnce(new URL(`${base}/slow`), '{}', options(300))).rejects.toThrow(
      'timed out after 300 ms',
    );
  });

  it('connects through the guarded lookup: a name resolving to loopback is refused', async () => {
    const port = new URL(base).port;
    await expect(
      postOnce(new URL(`http://localhost:${port}/`), '{}', options(5_000, false)),
    ).rejects.toBeInstanceOf(WebhookUrlRefused);
    const allowed = await postOnce(new URL(`http://localhost:${port}/`), '{}', options());
    expect(allowed.status).toBe(204);
  });

  it('keeps the connection for the next attempt to the same receiver, and only there', async () => {
    const port = new URL(base).port;
    const strict = webhookAgents(guardedLookup(false));
    const allowing = webhookAgents(guardedLookup(true));
    agents.push(strict, allowing);
    const connections = new Set<unknown>();
    server.on('connection', (socket) => connections.add(socket));
    const before = connections.size;
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await postOnce(new URL(`${base}/`), '{}', options(5_000, true, allowing))).status,
      ).toBe(204);
    }
    expect(connections.size - before).toBe(1);
    // The strict agents never see the allowing agents' connection: each new one is judged.
    await expect(
      postOnce(new URL(`http://localhost:${port}/`), '{}', options(5_000, false, strict)),
    ).rejects.toBeInstanceOf(WebhookUrlRefused);
  });

  it('still delivers after the receiver closed the kept connection', async () => {
    const pair = webhookAgents(guardedLookup(true));
    agents.push(pair);
    expect((await postOnce(new URL(`${base}/`), '{}', options(5_000, true, pair))).status).toBe(
      204,
    );
    // The receiver drops its idle connections; the agent still holds ours as free.
    server.closeIdleConnections();
    const again = await postOnce(new URL(`${base}/`), '{}', options(5_000, true, pair));
    expect(again.status).toBe(204);
  });
});
