import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@jest/globals';
import { eventually } from './wait.js';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP receiver on 127.0.0.1 for webhook specs: it records every request and answers
 * each path with the statuses queued for it, in order (the last one repeats; 200 when none).
 */
export interface WebhookReceiver {
  url(path: string): string;
  /** What `path` answers, request after request: `[500, 200]` fails once, then succeeds. */
  answer(path: string, statuses: number[]): void;
  received(path: string): ReceivedRequest[];
  /** Requests to `path` are recorded but not answered until release(path). */
  hold(path: string): void;
  /** Answers every held request to `path` (as planned) and stops holding it. */
  release(path: string): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const plans = new Map<string, number[]>();
  const held = new Map<string, (() => void)[]>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString() });
      const answer = () => {
        const plan = plans.get(path) ?? [200];
        const status = plan.length > 1 ? (plan.shift() ?? 200) : (plan[0] ?? 200);
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(`answered ${status} to ${path}`);
      };
      const waiting = held.get(path);
      if (waiting === undefined) answer();
      else waiting.push(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    answer: (path, statuses) => plans.set(path, [...statuses]),
    received: (path) => requests.filter((request) => request.path === path),
    hold: (path) => {
      if (!held.has(path)) held.set(path, []);
    },
    release: (path) => {
      const waiting = held.get(path) ?? [];
      held.delete(path);
      for (const answer of waiting) answer();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits until `path` has received `count` requests; returns them, oldest first. */
export function receivedAt(
  receiver: WebhookReceiver,
  path: string,
  count: number,
  ms?: number,
): Promise<ReceivedRequest[]> {
  return eventually(() => {
    const received = receiver.received(path);
    expect(received).toHaveLength(count);
    return Promise.resolve(received);
  }, ms);
}
