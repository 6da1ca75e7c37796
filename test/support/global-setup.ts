import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OpenAPIV3 } from 'openapi-types';
import { DataSource } from 'typeorm';
import { migrationsDataSourceOptions } from '../../src/database/data-source.js';
import { runBuilt } from './built-process.js';
import { compileContract } from './openapi-contract.js';
import { RESPONSE_CONTRACT_ENV, TEST_REDIS_URL, createDatabase } from './test-env.js';

async function createMigratedDatabase(database: string): Promise<string> {
  const url = await createDatabase(database);
  const dataSource = new DataSource(migrationsDataSourceOptions(url));
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
  return url;
}

/**
 * The OpenAPI document /openapi.json serves, as openapi-cli writes it (about 3 s), compiled
 * into the validators every response is checked against. Written under .build so that the
 * compiled module finds ajv's runtime in node_modules.
 */
async function writeResponseContract(runId: string): Promise<string> {
  const directory = fileURLToPath(new URL('../../response-contract/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  const documentFile = `${directory}${runId}-openapi.json`;
  const { code, stderr } = await runBuilt('openapi-cli', [documentFile]);
  if (code !== 0) throw new Error(`openapi-cli failed (${code}): ${stderr}`);
  const document = JSON.parse(readFileSync(documentFile, 'utf8')) as OpenAPIV3.Document;
  rmSync(documentFile);
  const contractFile = `${directory}${runId}.cjs`;
  writeFileSync(contractFile, compileContract(document));
  return contractFile;
}

/**
 * One fresh, migrated database and one Redis prefix for this whole test run, and the OpenAPI
 * document every response is checked against (test/support/response-contract.ts).
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `gatehouse_test_${runId}`;
  const [url, contractFile] = await Promise.all([
    createMigratedDatabase(database),
    writeResponseContract(runId),
  ]);

  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    GATEHOUSE_TEST_RUN: runId,
    GATEHOUSE_TEST_DATABASE: database,
    [RESPONSE_CONTRACT_ENV]: contractFile,
    DATABASE_URL: url,
    REDIS_URL: TEST_REDIS_URL,
    // The cluster run (see test/support/run-tests.ts): every Redis user talks to the cluster.
    REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES ?? '',
    REDIS_PREFIX: `gh-test-${runId}:`,
    QUEUE_PREFIX: `gh-test-${runId}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    // Every test logs in from 127.0.0.1; the throttling spec sets its own low limits.
    AUTH_THROTTLE_PER_IP: '1000000',
    AUTH_FAILURES_PER_IP: '1000000',
    // Specs of exact limits run beside many others on a busy machine: a limiter call that
    // waits longer than 250 ms there is load, not an outage (the outage specs stop Redis).
    RATE_LIMIT_TIMEOUT_MS: '2000',
  });
}
