import 'reflect-metadata';
import { writeFileSync } from 'node:fs';

/**
 * `node dist/openapi-document.js [file]`: writes the OpenAPI document the api serves at
 * /openapi.json (to stdout without a file), without a database, Redis or a port: Nest's
 * preview mode resolves the modules and routes but instantiates no provider. For linting in
 * CI (`npm run lint:openapi`) and for generating clients.
 */
// ApiModule's ConfigModule validates the environment when it is imported; nothing connects.
process.env.DATABASE_URL ??= 'postgres://openapi.invalid/unused';
const { NestFactory } = await import('@nestjs/core');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const { ApiModule } = await import('./api.module.js');
const { configureRouting } = await import('./common/http-app.js');
const { buildOpenApiDocument } = await import('./common/openapi.js');

const app = await NestFactory.create(ApiModule, new FastifyAdapter(), {
  preview: true,
  logger: ['error'],
  abortOnError: false,
});
configureRouting(app);
const text = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
await app.close();
const file = process.argv[2];
if (file === undefined) process.stdout.write(text);
else writeFileSync(file, text);
