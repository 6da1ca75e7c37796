import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { useDocumentEnvironment } from './config/env.js';

/**
 * `node dist/openapi-cli.js [file]`: writes the OpenAPI document that /openapi.json serves,
 * built from the code alone, to the file or to stdout (the TypeScript client is generated
 * from it: `npm run client:generate`). Nest's preview mode resolves the modules and their
 * controllers without instantiating any provider, so nothing connects to Postgres or Redis
 * and no port is opened.
 */
async function main(): Promise<void> {
  useDocumentEnvironment(); // before ApiModule (and its ConfigModule) is imported
  const { ApiModule } = await import('./api.module.js');
  const { configureRoutes } = await import('./common/http-app.js');
  const { buildOpenApiDocument } = await import('./common/openapi.js');

  const app = await NestFactory.create(ApiModule, new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  configureRoutes(app);
  const text = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  const [file] = process.argv.slice(2);
  if (file === undefined) process.stdout.write(text);
  else writeFileSync(file, text);
}

await main();
