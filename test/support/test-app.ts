import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ApiModule } from '../../src/api.module.js';
import { configureHttpApp, createFastifyAdapter } from '../../src/common/http-app.js';
import { createLogger } from '../../src/common/logger.js';
import { CONFIG_CLASSES } from '../../src/config/config.classes.js';
import { type Env, validateEnv } from '../../src/config/env.js';
import { callSite, checkResponse } from './response-contract.js';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  /**
   * fetch against the running app, e.g. `call('/health/ready')`. Every response is checked
   * against the OpenAPI document (test/support/response-contract.ts).
   */
  call(path: string, init?: RequestInit): Promise<Response>;
  /** A fetch for the typed client (its `fetch` option), checked like `call`. */
  fetch: (request: Request) => Promise<Response>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  imports?: (Type<unknown> | DynamicModule)[];
  /** Replace a provider, e.g. a config class pointing at an unreachable Redis. */
  overrides?: [token: Type<unknown> | string | symbol, value: unknown][];
  /** Environment variables for this app only: every config class is rebuilt from them. */
  env?: Record<string, string>;
}

/** Every config class, built from this run's environment plus `env`, as provider overrides. */
function configOverrides(env: Record<string, string>): [Type<unknown>, unknown][] {
  const config = new ConfigService<Env, true>(validateEnv({ ...process.env, ...env }));
  return CONFIG_CLASSES.map((cls) => [cls, new cls(config)]);
}

/**
 * Boots the real api (ApiModule, configured exactly as main.ts does) on a random port of
 * 127.0.0.1, against this run's real Postgres database and Redis prefix.
 */
export async function startApp(options: TestAppOptions = {}): Promise<TestApp> {
  const builder = Test.createTestingModule({ imports: [ApiModule, ...(options.imports ?? [])] });
  const env = options.env === undefined ? [] : configOverrides(options.env);
  for (const [token, value] of [...env, ...(options.overrides ?? [])]) {
    builder.overrideProvider(token).useValue(value);
  }
  const moduleRef = await builder.compile();
  const { TRUST_PROXY } = validateEnv({ ...process.env, ...options.env });
  const adapter = createFastifyAdapter({ trustProxy: TRUST_PROXY });
  const app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, {
    bodyParser: false,
    logger: createLogger('error'),
  });
  configureHttpApp(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    call: async (path, init) => {
      const site = callSite();
      const response = await fetch(`${url}${path}`, init);
      const request = { method: init?.method ?? 'GET', path, headers: new Headers(init?.headers) };
      await checkResponse(request, response, site);
      return response;
    },
    fetch: async (request) => {
      const site = callSite();
      const { pathname, search } = new URL(request.url);
      const response = await fetch(request);
      await checkResponse(
        { method: request.method, path: `${pathname}${search}`, headers: request.headers },
        response,
        site,
      );
      return response;
    },
    close: () => app.close(),
  };
}

/** A JSON request's init: method, body and content type. */
export function json(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  };
}
