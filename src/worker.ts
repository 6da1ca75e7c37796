import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createLogger } from './common/logger.js';
import { closeOnSignals } from './common/shutdown.js';
import { validateEnvOrExit } from './config/env.js';
import { redactUrl } from './config/redact.js';
import { redisLocation } from './redis/redis-client.js';
import { WorkerModule } from './worker.module.js';

/**
 * The worker process: a Nest application context with no HTTP server, where the BullMQ
 * processors run. On SIGTERM it stops taking jobs, lets running ones finish and closes pools.
 */
async function bootstrap(): Promise<void> {
  const env = validateEnvOrExit('worker');
  const logger = createLogger(env.LOG_LEVEL);
  logger.log(
    {
      msg: 'worker starting',
      database: redactUrl(env.DATABASE_URL),
      redis: redisLocation(env.REDIS_URL, env.REDIS_CLUSTER_NODES),
    },
    'Worker',
  );
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger });
  closeOnSignals(app, logger, 'worker');
}

await bootstrap();
