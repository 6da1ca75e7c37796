import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
// class-validator's isEmail is validator's: importing class-validator whole would cost
// `npm start` several tenths of a second before it can start the api process.
import validatorIsEmail from 'validator/lib/isEmail.js';
import { parseCidr } from '../modules/keys/ip-allowlist.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../modules/auth/password-policy.js';
import { EMAIL_MAX_LENGTH } from '../modules/users/account-fields.js';
import { QUEUE_NAMES, type QueueName } from '../queues/queue-names.js';
import {
  ConfigError,
  type Raw,
  boolean,
  integer,
  list,
  oneOf,
  prefix,
  text,
  url,
} from './env-values.js';
import { redactUrlCredentials } from './redact.js';

/** The module's exports are the function itself, typed as a CommonJS default export. */
const isEmail = validatorIsEmail.default;

/**
 * The validated process environment. Every variable ARCHITECTURE.md names is here, parsed
 * into its real type with its default applied; nothing else in the code reads process.env.
 */
export interface Env {
  NODE_ENV: 'development' | 'production' | 'test';
  PORT: number;
  DATABASE_URL: string;
  /** The most Postgres connections one process holds (pg's pool `max`). */
  DATABASE_POOL_SIZE: number;
  /** Postgres cancels a statement of the processes' connections after this long; 0 sets none. */
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  REDIS_URL: string;
  /** Seed nodes of a Redis Cluster (empty: the single Redis at REDIS_URL). */
  REDIS_CLUSTER_NODES: RedisNode[];
  JWT_SECRET: string;
  /** Secrets that signed tokens still in circulation; verified, never used to sign. */
  JWT_PREVIOUS_SECRETS: string[];
  ACCESS_TOKEN_TTL_SECONDS: number;
  REFRESH_TOKEN_TTL_DAYS: number;
  /** Login and register attempts allowed per minute from one IP, and for one account. */
  AUTH_THROTTLE_PER_IP: number;
  AUTH_THROTTLE_PER_ACCOUNT: number;
  /** Failed credentials (unknown or malformed API keys, invalid bearer tokens) per minute from one address. */
  AUTH_FAILURES_PER_IP: number;
  PUBLIC_URL: string;
  /** The first platform administrator, created at start when no account has this email. */
  ADMIN_EMAIL: string | undefined;
  ADMIN_PASSWORD: string | undefined;
  /** Whose X-Forwarded-For is believed: nobody (false), the nearest n hops, or these CIDRs. */
  TRUST_PROXY: false | number | string[];
  /** A separate listener for /metrics (unset: none), its bind address, and a bearer token. */
  METRICS_PORT: number | undefined;
  METRICS_HOST: string;
  METRICS_TOKEN: string | undefined;
  WEBHOOK_ALLOW_PRIVATE_URLS: boolean;
  /** Seals webhook secrets at rest; unset: derived from JWT_SECRET (and JWT_PREVIOUS_SECRETS). */
  WEBHOOK_SECRETS_KEY: string | undefined;
  /** Days a dispatched outbox event is kept (its deliveries' retries read it). */
  WEBHOOK_OUTBOX_RETENTION_DAYS: number;
  /** Days of delivery attempts (the attempts log) kept. */
  WEBHOOK_LOG_RETENTION_DAYS: number;
  QUEUE_PREFIX: string;
  REDIS_PREFIX: string;
  LOG_LEVEL: LogLevel;
  CORS_ORIGINS: string[];
  RATE_LIMIT_FAILURE_MODE: 'open' | 'closed';
  /** How long a limiter call may wait for Redis before RATE_LIMIT_FAILURE_MODE decides. */
  RATE_LIMIT_TIMEOUT_MS: number;
  AUDIT_RETENTION_DAYS: number;
  /** Days of raw usage logs (usage_logs) kept; rollups are kept longer. */
  USAGE_RETENTION_DAYS: number;
  /** Usage records an api process holds while the queue is unreachable; the oldest go first. */
  USAGE_BUFFER_MAX_RECORDS: number;
  /** Days of Sentry envelopes and their events kept (whole months are dropped). */
  EVENT_RETENTION_DAYS: number;
  /** The Telegram bot that sends new-issue alerts; none: no alerts. A secret, never logged. */
  TELEGRAM_BOT_TOKEN: string | undefined;
  /** The Bot API's base URL (a fake one in tests). */
  TELEGRAM_API_URL: string;
  WORKER_QUEUES: QueueName[];
  /** `npm start` only: where the embedded Postgres cluster and the local JWT secret are kept. */
  DATA_DIR: string;
}

export interface RedisNode {
  host: string;
  port: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The longest PUBLIC_URL, as written and as URL normalizes it (the DSNs built from it grow). */
export const PUBLIC_URL_MAX_LENGTH = 2_000;

/** PUBLIC_URL without trailing slashes, where the docs, DSNs and links point. */
function publicUrl(raw: Raw, port: number): string {
  const value = url(raw, 'PUBLIC_URL', ['http', 'https'], `http://localhost:${port}`).replace(
    /\/+$/,
    '',
  );
  if (Math.max(value.length, new URL(value).href.length) > PUBLIC_URL_MAX_LENGTH) {
    throw new ConfigError('PUBLIC_URL', `must be at most ${PUBLIC_URL_MAX_LENGTH} characters long`);
  }
  return value;
}

/** `host:port` items (`[v6]:port` for IPv6); the password and TLS come from REDIS_URL. */
function redisNodes(raw: Raw, name: string): RedisNode[] {
  return list(raw, name).map((item) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(item);
    const port = Number(match?.[3]);
    if (match === null || port < 1 || port > 65_535) {
      throw new ConfigError(name, `must be a comma list of host:port (got "${item}")`);
    }
    return { host: match[1] ?? match[2] ?? '', port };
  });
}

/** ADMIN_EMAIL and ADMIN_PASSWORD: both or neither; the password as register requires it. */
function adminAccount(raw: Raw): { email: string; password: string } | undefined {
  const email = text(raw, 'ADMIN_EMAIL')?.toLowerCase();
  // The password is taken as given: spaces at either end are part of it.
  const password = typeof raw.ADMIN_PASSWORD === 'string' ? raw.ADMIN_PASSWORD : '';
  if (email === undefined && password === '') return undefined;
  if (email === undefined) throw new ConfigError('ADMIN_EMAIL', 'is required with ADMIN_PASSWORD');
  if (password === '') throw new ConfigError('ADMIN_PASSWORD', 'is required with ADMIN_EMAIL');
  if (email.length > EMAIL_MAX_LENGTH || !isEmail(email)) {
    throw new ConfigError('ADMIN_EMAIL', `must be an email address (got "${email}")`);
  }
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new ConfigError(
      'ADMIN_PASSWORD',
      `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
    );
  }
  return { email, password };
}

/**
 * TRUST_PROXY: unset trusts nobody (the socket's peer is the client); a whole number trusts
 * that many hops nearest the server; a comma list trusts peers at those addresses or CIDRs.
 * "true" (every peer) is refused: anyone could then choose their own address.
 */
function trustProxy(raw: Raw): false | number | string[] {
  const value = text(raw, 'TRUST_PROXY');
  if (value === undefined || value === '0' || value.toLowerCase() === 'false') return false;
  if (/^\d+$/.test(value)) return integer(raw, 'TRUST_PROXY', 0, 1, 100);
  const entries = list(raw, 'TRUST_PROXY');
  const bad = entries.find((entry) => parseCidr(entry) === null);
  if (bad !== undefined) {
    throw new ConfigError(
      'TRUST_PROXY',
      `must be a hop count or a comma list of IP addresses or CIDRs (got "${bad}")`,
    );
  }
  return entries;
}

function metricsSettings(raw: Raw): {
  port: number | undefined;
  host: string;
  token: string | undefined;
} {
  const port =
    text(raw, 'METRICS_PORT') === undefined ? undefined : integer(raw, 'METRICS_PORT', 0, 0, 65535);
  const host = text(raw, 'METRICS_HOST') ?? '127.0.0.1';
  if (isIP(host) === 0 && !/^[A-Za-z0-9.-]{1,253}$/.test(host)) {
    throw new ConfigError('METRICS_HOST', `must be an IP address or host name (got "${host}")`);
  }
  const token = text(raw, 'METRICS_TOKEN');
  if (token !== undefined && token.length < 16) {
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  }
  return { port, host, token };
}

/** Placeholders from examples (docker/compose.yml's default): never accepted in production. */
const PLACEHOLDER_SECRET = /^change-?me/i;

/**
 * Parses and validates the environment. Throws ConfigError naming the first bad variable.
 * Used as @nestjs/config's `validate` and by the entry points before anything starts.
 */
export function validateEnv(raw: Raw): Env {
  const nodeEnv = oneOf(raw, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const port = integer(raw, 'PORT', 3000, 0, 65535);

  const jwtSecret = text(raw, 'JWT_SECRET');
  if (jwtSecret === undefined && nodeEnv === 'production') {
    throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production');
  }
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  }
  if (jwtSecret !== undefined && nodeEnv === 'production' && PLACEHOLDER_SECRET.test(jwtSecret)) {
    throw new ConfigError(
      'JWT_SECRET',
      'is still the example placeholder; set a random secret (openssl rand -hex 32)',
    );
  }
  const previousSecrets = list(raw, 'JWT_PREVIOUS_SECRETS');
  if (previousSecrets.some((secret) => secret.length < 32)) {
    throw new ConfigError('JWT_PREVIOUS_SECRETS', 'must hold secrets of at least 32 characters');
  }

  const webhookSecretsKey = text(raw, 'WEBHOOK_SECRETS_KEY');
  if (webhookSecretsKey !== undefined && webhookSecretsKey.length < 32) {
    throw new ConfigError('WEBHOOK_SECRETS_KEY', 'must be at least 32 characters');
  }

  const admin = adminAccount(raw);
  const metrics = metricsSettings(raw);

  const corsOrigins = list(raw, 'CORS_ORIGINS');
  const badOrigin = corsOrigins.find(
    (origin) => origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin),
  );
  if (badOrigin !== undefined) {
    throw new ConfigError(
      'CORS_ORIGINS',
      `has an invalid origin ("${badOrigin}"); use scheme://host[:port] or *`,
    );
  }

  const queues = list(raw, 'WORKER_QUEUES');
  const unknownQueue = queues.find((queue) => !(QUEUE_NAMES as readonly string[]).includes(queue));
  if (unknownQueue !== undefined) {
    throw new ConfigError(
      'WORKER_QUEUES',
      `names an unknown queue "${unknownQueue}" (known: ${QUEUE_NAMES.join(', ')})`,
    );
  }

  return {
    NODE_ENV: nodeEnv,
    PORT: port,
    DATABASE_URL: url(raw, 'DATABASE_URL', ['postgres', 'postgresql']),
    DATABASE_POOL_SIZE: integer(raw, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    // The request timeout (30 s, API.md's 504): a statement running longer no longer has a
    // client waiting for it, it only holds a pooled connection and its locks.
    DATABASE_STATEMENT_TIMEOUT_MS: integer(
      raw,
      'DATABASE_STATEMENT_TIMEOUT_MS',
      30_000,
      0,
      86_400_000,
    ),
    REDIS_URL: url(raw, 'REDIS_URL', ['redis', 'rediss'], 'redis://127.0.0.1:6379'),
    REDIS_CLUSTER_NODES: redisNodes(raw, 'REDIS_CLUSTER_NODES'),
    // Outside production a missing secret is a random one for this process: tokens then
    // only verify on the process that issued them (`npm start` passes a persistent one).
    JWT_SECRET: jwtSecret ?? randomBytes(32).toString('hex'),
    JWT_PREVIOUS_SECRETS: previousSecrets,
    ACCESS_TOKEN_TTL_SECONDS: integer(raw, 'ACCESS_TOKEN_TTL_SECONDS', 900, 60, 86_400),
    REFRESH_TOKEN_TTL_DAYS: integer(raw, 'REFRESH_TOKEN_TTL_DAYS', 30, 1, 365),
    AUTH_THROTTLE_PER_IP: integer(raw, 'AUTH_THROTTLE_PER_IP', 30, 1, 1_000_000),
    AUTH_THROTTLE_PER_ACCOUNT: integer(raw, 'AUTH_THROTTLE_PER_ACCOUNT', 10, 1, 1_000_000),
    AUTH_FAILURES_PER_IP: integer(raw, 'AUTH_FAILURES_PER_IP', 60, 1, 1_000_000),
    PUBLIC_URL: publicUrl(raw, port),
    ADMIN_EMAIL: admin?.email,
    ADMIN_PASSWORD: admin?.password,
    TRUST_PROXY: trustProxy(raw),
    METRICS_PORT: metrics.port,
    METRICS_HOST: metrics.host,
    METRICS_TOKEN: metrics.token,
    WEBHOOK_ALLOW_PRIVATE_URLS: boolean(raw, 'WEBHOOK_ALLOW_PRIVATE_URLS', false),
    WEBHOOK_SECRETS_KEY: webhookSecretsKey,
    WEBHOOK_OUTBOX_RETENTION_DAYS: integer(raw, 'WEBHOOK_OUTBOX_RETENTION_DAYS', 7, 2, 36500),
    WEBHOOK_LOG_RETENTION_DAYS: integer(raw, 'WEBHOOK_LOG_RETENTION_DAYS', 30, 1, 36500),
    QUEUE_PREFIX: prefix(raw, 'QUEUE_PREFIX', 'gatehouse'),
    REDIS_PREFIX: prefix(raw, 'REDIS_PREFIX', 'gh:'),
    LOG_LEVEL: oneOf(raw, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'warn' : 'log'),
    CORS_ORIGINS: corsOrigins,
    RATE_LIMIT_FAILURE_MODE: oneOf(raw, 'RATE_LIMIT_FAILURE_MODE', ['open', 'closed'], 'open'),
    RATE_LIMIT_TIMEOUT_MS: integer(raw, 'RATE_LIMIT_TIMEOUT_MS', 250, 10, 10_000),
    AUDIT_RETENTION_DAYS: integer(raw, 'AUDIT_RETENTION_DAYS', 90, 1, 36500),
    USAGE_RETENTION_DAYS: integer(raw, 'USAGE_RETENTION_DAYS', 30, 1, 36500),
    USAGE_BUFFER_MAX_RECORDS: integer(raw, 'USAGE_BUFFER_MAX_RECORDS', 50_000, 1, 10_000_000),
    EVENT_RETENTION_DAYS: integer(raw, 'EVENT_RETENTION_DAYS', 90, 1, 36500),
    TELEGRAM_BOT_TOKEN: text(raw, 'TELEGRAM_BOT_TOKEN'),
    TELEGRAM_API_URL: url(
      raw,
      'TELEGRAM_API_URL',
      ['http', 'https'],
      'https://api.telegram.org',
    ).replace(/\/+$/, ''),
    WORKER_QUEUES: queues.length > 0 ? (queues as QueueName[]) : [...QUEUE_NAMES],
    DATA_DIR: text(raw, 'DATA_DIR') ?? '.data',
  };
}

/**
 * For the entry points: validate process.env, or print one line naming the variable and exit(1).
 * No stack trace: a configuration mistake is the operator's, not a bug.
 */
export function validateEnvOrExit(processName: string, overrides: Raw = {}): Env {
  try {
    return validateEnv({ ...process.env, ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `gatehouse ${processName}: invalid configuration: ${redactUrlCredentials(error.message)}\n`,
      );
      process.exit(1);
    }
    throw error;
  }
}

/**
 * The one environment the OpenAPI document is built under (src/openapi-cli.ts): the document
 * depends on no setting, so the output is the same on every machine, whatever the caller's
 * shell holds. ConfigModule validates the environment when it is imported, so this runs
 * first; DATABASE_URL is required there but never connected to.
 */
export function useDocumentEnvironment(): void {
  process.env = { NODE_ENV: 'development', DATABASE_URL: 'postgres://127.0.0.1/openapi' };
}

/** The environment a launched child process inherits, with the launcher's own settings on top. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}

/** DATABASE_URL as given, or undefined when unset (the launcher then starts its own Postgres). */
export function configuredDatabaseUrl(): string | undefined {
  return text(process.env, 'DATABASE_URL');
}

/** JWT_SECRET as given, or undefined (the launcher then keeps one in .data/). */
export function configuredJwtSecret(): string | undefined {
  return text(process.env, 'JWT_SECRET');
}
