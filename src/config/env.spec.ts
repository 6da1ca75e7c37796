import { describe, expect, it } from '@jest/globals';
import { ConfigError, validateEnv } from './env.js';

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
      PLATFORM_ADMIN_EMAILS: [],
      WEBHOOK_ALLOW_PRIVATE_URLS: false,
      QUEUE_PREFIX: 'gatehouse',
      REDIS_PREFIX: 'gh:',
      LOG_LEVEL: 'log',
      CORS_ORIGINS: [],
      RATE_LIMIT_FAILURE_MODE: 'open',
      RATE_LIMIT_EVENTS_RETENTION_DAYS: 30,
      AUDIT_RETENTION_DAYS: 90,
      AUTH_FAILURES_PER_IP: 60,
      WORKER_QUEUES: ['webhooks', 'usage', 'retention', 'notifications'],
    });
    expect(env.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    // No built-in secret: each process without one gets its own random secret.
    expect(validateEnv(base).JWT_SECRET).not.toBe(env.JWT_SECRET);
  });

  it('parses lists, booleans and numbers', () => {
    const env = validateEnv({
      ...base,
      PORT: '8080',
      PLATFORM_ADMIN_EMAILS: ' Ops@Example.com , root@example.com ',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
      WORKER_QUEUES: 'webhooks,usage',
      PUBLIC_URL: 'https://api.example.com/',
      RATE_LIMIT_EVENTS_RETENTION_DAYS: '7',
    });
    expect(env.PORT).toBe(8080);
    expect(env.RATE_LIMIT_EVENTS_RETENTION_DAYS).toBe(7);
    expect(env.PLATFORM_ADMIN_EMAILS).toEqual(['ops@example.com', 'root@example.com']);
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
    [
      { RATE_LIMIT_FAILURE_MODE: 'sometimes' },
      'RATE_LIMIT_FAILURE_MODE must be one of open, closed',
    ],
    [{ AUDIT_RETENTION_DAYS: '0' }, 'AUDIT_RETENTION_DAYS must be a whole number from 1'],
    [{ AUTH_FAILURES_PER_IP: '0' }, 'AUTH_FAILURES_PER_IP must be a whole number from 1'],
    [
      { RATE_LIMIT_EVENTS_RETENTION_DAYS: '0' },
      'RATE_LIMIT_EVENTS_RETENTION_DAYS must be a whole number from 1',
    ],
    [{ WORKER_QUEUES: 'webhooks,emails' }, 'WORKER_QUEUES names an unknown queue "emails"'],
    [
      { PLATFORM_ADMIN_EMAILS: 'ops' },
      'PLATFORM_ADMIN_EMAILS has an invalid email address ("ops")',
    ],
    [{ CORS_ORIGINS: 'example.com' }, 'CORS_ORIGINS has an invalid origin ("example.com")'],
    [{ REDIS_PREFIX: 'has space' }, 'REDIS_PREFIX must be 1-64 characters'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, log, debug, verbose'],
  ])('names the variable for %j', (raw, message) => {
    expect(problem(raw)).toContain(message);
  });

  it('accepts production with a long JWT secret', () => {
    const env = validateEnv({ ...base, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(env.NODE_ENV).toBe('production');
  });
});
