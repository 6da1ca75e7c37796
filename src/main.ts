import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from './api.module.js';
import { configureHttpApp, createFastifyAdapter } from './common/http-app.js';
import { createLogger } from './common/logger.js';
import { closeOnSignals } from './common/shutdown.js';
import { validateEnvOrExit } from './config/env.js';
import { redactUrl } from './config/redact.js';
import { redisLocation } from './redis/redis-client.js';

/** The api process: HTTP on PORT. Stops accepting, drains in-flight requests and closes pools on SIGTERM. */
async function bootstrap(): Promise<void> {
  const env = validateEnvOrExit('api');
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
  await configureHttpApp(app);
  await app.listen(env.PORT, '0.0.0.0');
  logger.log(
    { msg: 'api listening', port: env.PORT, docs: `${env.PUBLIC_URL}/docs`, pid: process.pid },
    'Api',
  );
}

await bootstrap();
