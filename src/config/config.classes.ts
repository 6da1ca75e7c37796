import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ConnectionSettings } from '../database/data-source.js';
import type { Env, LogLevel, RedisNode } from './env.js';
import type { QueueName } from '../queues/queue-names.js';

@Injectable()
export class AppConfig {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly port: number;
  readonly publicUrl: string;
  readonly logLevel: LogLevel;
  readonly corsOrigins: string[];

  constructor(c: ConfigService<Env, true>) {
    this.nodeEnv = c.get('NODE_ENV', { infer: true });
    this.port = c.get('PORT', { infer: true });
    this.publicUrl = c.get('PUBLIC_URL', { infer: true });
    this.logLevel = c.get('LOG_LEVEL', { infer: true });
    this.corsOrigins = c.get('CORS_ORIGINS', { infer: true });
  }
}

@Injectable()
export class DatabaseConfig implements ConnectionSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly statementTimeoutMs: number;

  constructor(config: ConfigService<Env, true>) {
    this.url = config.get('DATABASE_URL', { infer: true });
    this.poolSize = config.get('DATABASE_POOL_SIZE', { infer: true });
    this.statementTimeoutMs = config.get('DATABASE_STATEMENT_TIMEOUT_MS', { infer: true });
  }
}

@Injectable()
export class RedisConfig {
  /** The single Redis; with cluster nodes, only its user, password and TLS are used. */
  readonly url: string;
  /** A Redis Cluster's seed nodes; empty for a single Redis. */
  readonly clusterNodes: RedisNode[];
  /** Prepended to every key Gatehouse writes outside BullMQ (limiter, idempotency, bus). */
  readonly keyPrefix: string;

  constructor(c: ConfigService<Env, true>) {
    this.url = c.get('REDIS_URL', { infer: true });
    this.clusterNodes = c.get('REDIS_CLUSTER_NODES', { infer: true });
    this.keyPrefix = c.get('REDIS_PREFIX', { infer: true });
  }
}

@Injectable()
export class QueueConfig {
  /**
   * BullMQ's prefix: QUEUE_PREFIX as a hash tag, so every key of every queue is in one Redis
   * Cluster slot (BullMQ's scripts touch several keys of a queue at once).
   */
  readonly prefix: string;
  readonly workerQueues: QueueName[];

  constructor(c: ConfigService<Env, true>) {
    this.prefix = `{${c.get('QUEUE_PREFIX', { infer: true })}}`;
    this.workerQueues = c.get('WORKER_QUEUES', { infer: true });
  }
}

@Injectable()
export class AuthConfig {
  readonly jwtSecret: string;
  readonly jwtPreviousSecrets: string[];
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlDays: number;
  readonly throttlePerIp: number;
  readonly throttlePerAccount: number;

  constructor(c: ConfigService<Env, true>) {
    this.throttlePerIp = c.get('AUTH_THROTTLE_PER_IP', { infer: true });
    this.throttlePerAccount = c.get('AUTH_THROTTLE_PER_ACCOUNT', { infer: true });
    this.jwtSecret = c.get('JWT_SECRET', { infer: true });
    this.jwtPreviousSecrets = c.get('JWT_PREVIOUS_SECRETS', { infer: true });
    this.accessTokenTtlSeconds = c.get('ACCESS_TOKEN_TTL_SECONDS', { infer: true });
    this.refreshTokenTtlDays = c.get('REFRESH_TOKEN_TTL_DAYS', { infer: true });
  }
}

/** ADMIN_EMAIL + ADMIN_PASSWORD: the platform administrator to create at start, if any. */
@Injectable()
export class AdminConfig {
  readonly bootstrap: { email: string; password: string } | null;

  constructor(c: ConfigService<Env, true>) {
    const email = c.get('ADMIN_EMAIL', { infer: true });
    const password = c.get('ADMIN_PASSWORD', { infer: true });
    this.bootstrap = email !== undefined && password !== undefined ? { email, password } : null;
  }
}

/** Where Prometheus scrapes: a separate listener, and/or a bearer token on the public port. */
@Injectable()
export class MetricsConfig {
  readonly port: number | null;
  readonly host: string;
  readonly token: string | null;

  constructor(c: ConfigService<Env, true>) {
    this.port = c.get('METRICS_PORT', { infer: true }) ?? null;
    this.host = c.get('METRICS_HOST', { infer: true });
    this.token = c.get('METRICS_TOKEN', { infer: true }) ?? null;
  }
}

@Injectable()
export class WebhookConfig {
  /** Loopback and private addresses allowed as webhook targets (link-local never). */
  readonly allowPrivateUrls: boolean;
  /**
   * What seals endpoint secrets at rest: the first seals, every one opens. WEBHOOK_SECRETS_KEY
   * alone when set; otherwise JWT_SECRET, then JWT_PREVIOUS_SECRETS (so rotating JWT_SECRET
   * the documented way keeps stored secrets readable).
   */
  readonly secretsKeys: string[];
  /** A delivery attempt gives up after this long (connect, send and the response). */
  readonly deliveryTimeoutMs = 15_000;
  /** Dispatched outbox events older than this many days are deleted by the retention job. */
  readonly outboxRetentionDays: number;
  /** Delivery attempts older than this many days are deleted by the retention job. */
  readonly deliveriesRetentionDays: number;

  constructor(config: ConfigService<Env, true>) {
    this.allowPrivateUrls = config.get('WEBHOOK_ALLOW_PRIVATE_URLS', { infer: true });
    this.outboxRetentionDays = config.get('WEBHOOK_OUTBOX_RETENTION_DAYS', { infer: true });
    this.deliveriesRetentionDays = config.get('WEBHOOK_LOG_RETENTION_DAYS', {
      infer: true,
    });
    const own = config.get('WEBHOOK_SECRETS_KEY', { infer: true });
    this.secretsKeys =
      own !== undefined
        ? [own]
        : [
            config.get('JWT_SECRET', { infer: true }),
            ...config.get('JWT_PREVIOUS_SECRETS', { infer: true }),
          ];
  }
}

@Injectable()
export class RateLimitConfig {
  readonly failureMode: 'open' | 'closed';
  /** A limiter call not answered within this counts as Redis being down (failureMode). */
  readonly timeoutMs: number;

  constructor(config: ConfigService<Env, true>) {
    this.failureMode = config.get('RATE_LIMIT_FAILURE_MODE', { infer: true });
    this.timeoutMs = config.get('RATE_LIMIT_TIMEOUT_MS', { infer: true });
  }
}

@Injectable()
export class CredentialFailureConfig {
  /** Failed credential attempts allowed per minute from one client address (then 429). */
  readonly failuresPerIp: number;

  constructor(config: ConfigService<Env, true>) {
    this.failuresPerIp = config.get('AUTH_FAILURES_PER_IP', { infer: true });
  }
}

@Injectable()
export class AuditConfig {
  readonly retentionDays: number;

  constructor(config: ConfigService<Env, true>) {
    this.retentionDays = config.get('AUDIT_RETENTION_DAYS', { infer: true });
  }
}

@Injectable()
export class UsageConfig {
  /** Raw usage logs older than this many days are dropped by the retention job. */
  readonly retentionDays: number;
  /** The most usage records an api process buffers while the queue does not take them. */
  readonly bufferMaxRecords: number;
  /** How often an api process hands its usage records over (not configurable; tests slow it). */
  readonly flushMs = 250;

  constructor(config: ConfigService<Env, true>) {
    this.retentionDays = config.get('USAGE_RETENTION_DAYS', { infer: true });
    this.bufferMaxRecords = config.get('USAGE_BUFFER_MAX_RECORDS', { infer: true });
  }
}

@Injectable()
export class EventsConfig {
  /** Sentry envelopes and their events older than this many days are dropped (whole months). */
  readonly retentionDays: number;

  constructor(config: ConfigService<Env, true>) {
    this.retentionDays = config.get('EVENT_RETENTION_DAYS', { infer: true });
  }
}

/** New-issue alerts through the Telegram Bot API (API.md, Envelopes: Alerts). */
@Injectable()
export class TelegramConfig {
  /** Null: alerts are off. A secret: it is part of every Bot API URL, so no URL is logged. */
  readonly botToken: string | null;
  readonly apiUrl: string;

  constructor(config: ConfigService<Env, true>) {
    this.botToken = config.get('TELEGRAM_BOT_TOKEN', { infer: true }) ?? null;
    this.apiUrl = config.get('TELEGRAM_API_URL', { infer: true });
  }
}

export const CONFIG_CLASSES = [
  AppConfig,
  DatabaseConfig,
  RedisConfig,
  QueueConfig,
  AuthConfig,
  AdminConfig,
  MetricsConfig,
  WebhookConfig,
  RateLimitConfig,
  CredentialFailureConfig,
  AuditConfig,
  UsageConfig,
  EventsConfig,
  TelegramConfig,
];
