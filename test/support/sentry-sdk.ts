import { jest } from '@jest/globals';
import { NodeClient, defaultStackParser, makeNodeTransport } from '@sentry/node';

/**
 * The real @sentry/node SDK's client on a project's DSN as the API gives it, pointed at the
 * test server at `serverUrl`, with no integrations (nothing global is patched).
 */
export function sentryClient(
  projectDsn: string,
  serverUrl: string,
  options: { release?: string; environment?: string } = {},
): NodeClient {
  const dsn = new URL(projectDsn);
  dsn.host = new URL(serverUrl).host;
  // The SDK warns that Jest's loader cannot take its instrumentation hooks (none needed here).
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const client = new NodeClient({
    dsn: dsn.toString(),
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    integrations: [],
    ...options,
  });
  client.init();
  warn.mockRestore();
  return client;
}
