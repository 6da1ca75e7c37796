import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ApiModule } from '../../src/api.module.js';
import { configureHttpApp, createFastifyAdapter } from '../../src/common/http-app.js';
import { createLogger } from '../../src/common/logger.js';
import { CONFIG_CLASSES } from '../../src/config/config.classes.js';
import { type Env, validateEnv } from '../../src/config/env.js';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  /** fetch against the running app, e.g. `call('/health/ready')`. */
  call(path: string, init?: RequestInit): Promise<Response>;
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
  await configureHttpApp(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    call: (path, init) => fetch(`${url}${path}`, init),
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
