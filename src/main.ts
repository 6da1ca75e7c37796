import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from './api.module.js';
import { configureHttpApp, createFastifyAdapter } from './common/http-app.js';
import { createLogger } from './common/logger.js';
import { closeOnSignals } from './common/shutdown.js';
import { type Env, validateEnvOrExit } from './config/env.js';
import { redactUrl } from './config/redact.js';
import { redisLocation } from './redis/redis-client.js';
import { API_HOST, apiListeners, portInUse, portInUseMessage } from './launcher/ports.js';

/** A port another process holds is the operator's to fix: one line naming it, exit 1. */
function exitPortInUse(message: string): never {
  process.stderr.write(`gatehouse api: ${message}\n`);
  process.exit(1);
}

/** Which variable set the port of a listen that failed with EADDRINUSE, if that was the cause. */
function portTaken(error: unknown, env: Env): string | undefined {
  const failure = error as { code?: unknown; port?: unknown };
  if (failure.code !== 'EADDRINUSE' || typeof failure.port !== 'number') return undefined;
  const variable = failure.port === env.PORT ? 'PORT' : 'METRICS_PORT';
  return portInUseMessage(variable, failure.port);
}

/** The api process: HTTP on PORT. Stops accepting, drains in-flight requests and closes pools on SIGTERM. */
async function bootstrap(): Promise<void> {
  const env = validateEnvOrExit('api');
  // Before the seconds of booting, so a taken port is said at once.
  const taken = await portInUse(apiListeners(env));
  if (taken !== undefined) exitPortInUse(taken);
  const logger = createLogger(env.LOG_LEVEL);
  logger.log(
    {
      msg: 'api starting',
      database: redactUrl(env.DATABASE_URL),
      redis: redisLocation(env.REDIS_URL, env.REDIS_CLUSTER_NODES),
    },
    'Api',
  );
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule,
    createFastifyAdapter({ trustProxy: env.TRUST_PROXY }),
    {
      bodyParser: false,
      logger,
    },
  );
  closeOnSignals(app, logger, 'api');
  configureHttpApp(app);
  try {
    await app.listen(env.PORT, API_HOST);
  } catch (error) {
    // Taken while booting: Nest has logged the listen error; this says what to do about it.
    const message = portTaken(error, env);
    if (message === undefined) throw error;
    exitPortInUse(message);
  }
  logger.log(
    { msg: 'api listening', port: env.PORT, docs: `${env.PUBLIC_URL}/docs`, pid: process.pid },
    'Api',
  );
}

await bootstrap();
