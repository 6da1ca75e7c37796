import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from './env-values.js';
import { validateEnv } from './env.js';

const base = { DATABASE_URL: 'postgres://u@localhost:5432/db' };

function problem(raw: Record<string, string>): string {
  try {
    validateEnv({ ...base, ...raw });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('validateEnv', () => {
  it('applies the documented defaults', () => {
    const env = validateEnv(base);
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      PUBLIC_URL: 'http://localhost:3000',
      DATABASE_POOL_SIZE: 10,
      DATABASE_STATEMENT_TIMEOUT_MS: 30_000,
      ADMIN_EMAIL: undefined,
      ADMIN_PASSWORD: undefined,
      TRUST_PROXY: false,
      METRICS_PORT: undefined,
      METRICS_HOST: '127.0.0.1',
      METRICS_TOKEN: undefined,
      WEBHOOK_ALLOW_PRIVATE_URLS: false,
      WEBHOOK_SECRETS_KEY: undefined,
      WEBHOOK_OUTBOX_RETENTION_DAYS: 7,
      WEBHOOK_LOG_RETENTION_DAYS: 30,
      QUEUE_PREFIX: 'gatehouse',
      REDIS_PREFIX: 'gh:',
      LOG_LEVEL: 'log',
      CORS_ORIGINS: [],
      RATE_LIMIT_FAILURE_MODE: 'open',
      AUDIT_RETENTION_DAYS: 90,
      USAGE_RETENTION_DAYS: 30,
      USAGE_BUFFER_MAX_RECORDS: 50_000,
      EVENT_RETENTION_DAYS: 90,
      TELEGRAM_BOT_TOKEN: undefined,
      TELEGRAM_API_URL: 'https://api.telegram.org',
      AUTH_FAILURES_PER_IP: 60,
      WORKER_QUEUES: ['webhooks', 'usage', 'retention', 'notifications', 'events'],
    });
    expect(env.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    // No built-in secret: each process without one gets its own random secret.
    expect(validateEnv(base).JWT_SECRET).not.toBe(env.JWT_SECRET);
  });

  it('parses lists, booleans and numbers', () => {
    const env = validateEnv({
      ...base,
      PORT: '8080',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
      WORKER_QUEUES: 'webhooks,usage',
      PUBLIC_URL: 'https://api.example.com/',
      AUDIT_RETENTION_DAYS: '7',
      DATABASE_POOL_SIZE: '25',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
    });
    expect(env.PORT).toBe(8080);
    expect(env.DATABASE_POOL_SIZE).toBe(25);
    expect(env.DATABASE_STATEMENT_TIMEOUT_MS).toBe(0);
    expect(env.AUDIT_RETENTION_DAYS).toBe(7);
    expect(env.WEBHOOK_ALLOW_PRIVATE_URLS).toBe(true);
    expect(env.CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(env.WORKER_QUEUES).toEqual(['webhooks', 'usage']);
    expect(env.PUBLIC_URL).toBe('https://api.example.com');
  });

  it.each([
    [{ DATABASE_URL: '' }, 'DATABASE_URL is required'],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL must use postgres or postgresql'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL must be a URL'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL must use redis or rediss'],
    [
      { PUBLIC_URL: `https://example.com/${'a'.repeat(2_000)}` },
      'PUBLIC_URL must be at most 2000 characters long',
    ],
    [{ PORT: '70000' }, 'PORT must be a whole number from 0 to 65535 (got "70000")'],
    [{ PORT: '3e3' }, 'PORT must be a whole number'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be one of development, production, test'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET is required when NODE_ENV=production'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 characters'],
    [
      {
        NODE_ENV: 'production',
        JWT_SECRET: 'change-me-to-a-long-random-secret-of-32-chars-or-more',
      },
      'JWT_SECRET is still the example placeholder',
    ],
    [
      { JWT_PREVIOUS_SECRETS: 'tooshort' },
      'JWT_PREVIOUS_SECRETS must hold secrets of at least 32 characters',
    ],
    [{ WEBHOOK_ALLOW_PRIVATE_URLS: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE_URLS must be true or false'],
    [{ WEBHOOK_SECRETS_KEY: 'tooshort' }, 'WEBHOOK_SECRETS_KEY must be at least 32 characters'],
    [
      { RATE_LIMIT_FAILURE_MODE: 'sometimes' },
      'RATE_LIMIT_FAILURE_MODE must be one of open, closed',
    ],
    [{ AUDIT_RETENTION_DAYS: '0' }, 'AUDIT_RETENTION_DAYS must be a whole number from 1'],
    [{ USAGE_RETENTION_DAYS: '0' }, 'USAGE_RETENTION_DAYS must be a whole number from 1'],
    [{ AUTH_FAILURES_PER_IP: '0' }, 'AUTH_FAILURES_PER_IP must be a whole number from 1'],
    [
      { DATABASE_POOL_SIZE: '0' },
      'DATABASE_POOL_SIZE must be a whole number from 1 to 1000 (got "0")',
    ],
    [{ DATABASE_POOL_SIZE: '1001' }, 'DATABASE_POOL_SIZE must be a whole number from 1 to 1000'],
    [{ DATABASE_POOL_SIZE: 'ten' }, 'DATABASE_POOL_SIZE must be a whole number'],
    [
      { DATABASE_STATEMENT_TIMEOUT_MS: '30s' },
      'DATABASE_STATEMENT_TIMEOUT_MS must be a whole number from 0 to 86400000 (got "30s")',
    ],
    [
      { DATABASE_STATEMENT_TIMEOUT_MS: '-1' },
      'DATABASE_STATEMENT_TIMEOUT_MS must be a whole number',
    ],
    [
      { DATABASE_STATEMENT_TIMEOUT_MS: '1.5' },
      'DATABASE_STATEMENT_TIMEOUT_MS must be a whole number',
    ],
    [{ WORKER_QUEUES: 'webhooks,emails' }, 'WORKER_QUEUES names an unknown queue "emails"'],
    [{ ADMIN_EMAIL: 'ops@example.com' }, 'ADMIN_PASSWORD is required with ADMIN_EMAIL'],
    [{ ADMIN_PASSWORD: 'long enough pw' }, 'ADMIN_EMAIL is required with ADMIN_PASSWORD'],
    [
      { ADMIN_EMAIL: 'ops', ADMIN_PASSWORD: 'long enough pw' },
      'ADMIN_EMAIL must be an email address (got "ops")',
    ],
    [
      { ADMIN_EMAIL: 'ops@example.com', ADMIN_PASSWORD: 'short' },
      'ADMIN_PASSWORD must be 8 to 128 characters',
    ],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY must be a hop count or a comma list'],
    [{ TRUST_PROXY: '10.0.0.0/8, 10.0.0.300' }, '(got "10.0.0.300")'],
    [{ TRUST_PROXY: '1000' }, 'TRUST_PROXY must be a whole number from 1 to 100'],
    [{ METRICS_PORT: 'metrics' }, 'METRICS_PORT must be a whole number from 0 to 65535'],
    [{ METRICS_HOST: 'not a host' }, 'METRICS_HOST must be an IP address or host name'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN must be at least 16 characters'],
    [{ CORS_ORIGINS: 'example.com' }, 'CORS_ORIGINS has an invalid origin ("example.com")'],
    [{ REDIS_PREFIX: 'has space' }, 'REDIS_PREFIX must be 1-64 characters'],
    [{ REDIS_CLUSTER_NODES: '10.0.0.1' }, 'REDIS_CLUSTER_NODES must be a comma list of host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:6379,b:70000' }, '(got "b:70000")'],
    [{ REDIS_CLUSTER_NODES: 'redis://a:6379' }, 'REDIS_CLUSTER_NODES must be'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, log, debug, verbose'],
  ])('names the variable for %j', (raw, message) => {
    expect(problem(raw)).toContain(message);
  });

  it('reads the first administrator, keeping the password as given', () => {
    const env = validateEnv({
      ...base,
      ADMIN_EMAIL: ' Ops@Example.com ',
      ADMIN_PASSWORD: ' spaces count ',
    });
    expect(env.ADMIN_EMAIL).toBe('ops@example.com');
    expect(env.ADMIN_PASSWORD).toBe(' spaces count ');
  });

  it.each([
    ['', false],
    ['0', false],
    ['false', false],
    ['2', 2],
    ['127.0.0.1, 10.0.0.0/8,2001:db8::/32', ['127.0.0.1', '10.0.0.0/8', '2001:db8::/32']],
  ])('TRUST_PROXY=%j trusts %j', (value, expected) => {
    expect(validateEnv({ ...base, TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('reads Redis Cluster seed nodes, IPv6 in brackets; none means one Redis', () => {
    expect(validateEnv(base).REDIS_CLUSTER_NODES).toEqual([]);
    const env = validateEnv({
      ...base,
      REDIS_CLUSTER_NODES: ' redis-1.internal:7000, 10.0.0.2:7001,[::1]:7002 ',
    });
    expect(env.REDIS_CLUSTER_NODES).toEqual([
      { host: 'redis-1.internal', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it('reads the metrics listener and token', () => {
    const env = validateEnv({
      ...base,
      METRICS_PORT: '9464',
      METRICS_HOST: '0.0.0.0',
      METRICS_TOKEN: 'a-scrape-token-of-32-characters!',
    });
    expect(env).toMatchObject({
      METRICS_PORT: 9464,
      METRICS_HOST: '0.0.0.0',
      METRICS_TOKEN: 'a-scrape-token-of-32-characters!',
    });
  });

  it('prints a URL in a configuration error without its password', () => {
    expect(problem({ REDIS_URL: 'http://:hunter2@localhost' })).not.toContain('hunter2');
  });

  it("README's configuration table lists every variable", () => {
    // .build/src/config/ -> the repository root.
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `([A-Z_]+)` /gm)].map((match) => match[1]));
    const missing = Object.keys(validateEnv(base)).filter((name) => !rows.has(name));
    expect(missing).toEqual([]);
  });

  it('accepts production with a long JWT secret', () => {
    const env = validateEnv({ ...base, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(env.NODE_ENV).toBe('production');
  });
});
