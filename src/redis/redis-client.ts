import { Logger } from '@nestjs/common';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/config.classes.js';
import type { RedisNode } from '../config/env.js';
import { redactUrl } from '../config/redact.js';

/**
 * What every part of Gatehouse talks to: one Redis, or a Redis Cluster when
 * REDIS_CLUSTER_NODES is set. Both answer the same commands; on a cluster, every command that
 * names several keys (the limiter's script, MULTI) must name keys of one hash slot, which is
 * why every such key carries a `{tag}`.
 */
export type RedisClient = Redis | Cluster;

/**
 * This process's shared connection (BullMQ opens its own). Every key it writes is prefixed
 * with REDIS_PREFIX, so several installations or test runs can share one Redis.
 */
export const REDIS = Symbol('REDIS');

/** The limiter's own connection, for the one round trip of every limited request. */
export const LIMITER_REDIS = Symbol('LIMITER_REDIS');

/** BullMQ's connection: options for one Redis, a shared Cluster for a cluster. */
export const QUEUE_CONNECTION = Symbol('QUEUE_CONNECTION');
export type QueueConnection = Cluster | { url: string; maxRetriesPerRequest: null };

/** RATE_LIMIT_TIMEOUT_MS's default: a limiter call not answered by then counts as Redis down. */
export const LIMITER_TIMEOUT_MS = 250;

/** How a connection behaves; the same on one node and on a cluster. */
export interface ConnectionOptions {
  /** Logged with connection problems. */
  name: string;
  /** Prepended to every key and channel (REDIS_PREFIX); BullMQ's connections take none. */
  keyPrefix?: string;
  /** null: none (BullMQ's blocking commands wait on purpose). */
  commandTimeout?: number | null;
  /** null: retry forever (BullMQ's blocking connections need it). */
  maxRetriesPerRequest?: number | null;
  enableAutoPipelining?: boolean;
  /**
   * On a cluster, fail a command whose node is gone at once instead of retrying it while the
   * cluster fails over (the limiter's budget is one 250 ms try; MOVED is still followed).
   */
  failFast?: boolean;
  /** Connect on the first command (or an explicit connect()) instead of at once. */
  lazyConnect?: boolean;
}

/** The user, password and TLS of REDIS_URL: a cluster's nodes all take them. */
function credentials(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function nodeOptions(options: ConnectionOptions): RedisOptions {
  const commandTimeout = options.commandTimeout === undefined ? 2_000 : options.commandTimeout;
  return {
    connectTimeout: 2_000,
    ...(commandTimeout === null ? {} : { commandTimeout }),
    maxRetriesPerRequest:
      options.maxRetriesPerRequest === undefined ? 1 : options.maxRetriesPerRequest,
  };
}

const retry = (attempt: number) => Math.min(attempt * 200, 2_000);

/**
 * A connection to the configured Redis. Commands fail fast instead of queueing forever while
 * Redis (or a cluster node) is away: callers decide what a failure means (the limiter's
 * failure mode, a 503 from readiness).
 */
export function connectRedis(config: RedisConfig, options: ConnectionOptions): RedisClient {
  if (config.clusterNodes.length > 0) return connectCluster(config, options);
  const client = new Redis(config.url, {
    ...nodeOptions(options),
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    enableOfflineQueue: true,
    lazyConnect: options.lazyConnect ?? false,
    retryStrategy: retry,
  });
  return reportProblems(client, options.name, redisLocation(config.url, []));
}

/** A connection to the Redis Cluster of REDIS_CLUSTER_NODES (which must not be empty). */
export function connectCluster(config: RedisConfig, options: ConnectionOptions): Cluster {
  const clusterOptions: ClusterOptions = {
    enableAutoPipelining: options.enableAutoPipelining ?? false,
    enableOfflineQueue: true,
    lazyConnect: options.lazyConnect ?? false,
    clusterRetryStrategy: retry,
    // A failover moves slots. Connections that retry learn the new owners from the errors
    // themselves (MOVED, a closed node); one that fails fast learns them only from this
    // refresh, so it asks every second (each refresh is a short connection of its own).
    slotsRefreshInterval: options.failFast === true ? 1_000 : 5_000,
    slotsRefreshTimeout: 2_000,
    retryDelayOnFailover: options.failFast === true ? 0 : 100,
    retryDelayOnClusterDown: options.failFast === true ? 0 : 100,
    redisOptions: { ...nodeOptions(options), ...credentials(config.url) },
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
  };
  const client = new Cluster(config.clusterNodes, clusterOptions);
  return reportProblems(client, options.name, redisLocation(config.url, config.clusterNodes));
}

/** Where a process's Redis is, for logs: the cluster's seed nodes, or REDIS_URL without its password. */
export function redisLocation(url: string, clusterNodes: readonly RedisNode[]): string {
  if (clusterNodes.length === 0) return redactUrl(url);
  return `cluster ${clusterNodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
}

/**
 * Logs the first error of an outage and the recovery, not every retry in between; a problem
 * still going on is logged again each minute (a cluster's failed slot refreshes emit no
 * 'ready' when they succeed again).
 */
function reportProblems<T extends RedisClient>(client: T, name: string, where: string): T {
  const logger = new Logger(name);
  let reportedAt: number | undefined;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (reportedAt !== undefined && now - reportedAt < 60_000) return;
    logger.warn(`Redis connection problem (${where}): ${error.message}`);
    reportedAt = now;
  });
  client.on('ready', () => {
    if (reportedAt !== undefined) logger.log('Redis connection restored');
    reportedAt = undefined;
  });
  return client;
}

/** Closes a connection without waiting on a Redis that is away (QUIT would queue forever). */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/**
 * Throws unless the connection can serve every key now: a single Redis answers PING; on a
 * cluster, every master this process knows says `cluster_state:ok` with all 16,384 slots
 * served.
 */
export async function assertRedisServing(client: RedisClient): Promise<void> {
  // Not connected means down now; a command would only wait in the offline queue.
  if (client.status !== 'ready') throw new Error(`redis ${client.status}`);
  if (!(client instanceof Cluster)) {
    await client.ping();
    return;
  }
  const masters = client.nodes('master');
  if (masters.length === 0) throw new Error('no cluster master reachable');
  for (const node of masters) {
    const info = parseInfo(await node.cluster('INFO'));
    const where = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    if (info.cluster_state !== 'ok') {
      throw new Error(`cluster state ${info.cluster_state ?? 'unknown'} at ${where}`);
    }
    const served = Number(info.cluster_slots_ok ?? 0);
    if (served !== CLUSTER_SLOTS) {
      throw new Error(`cluster serves ${served} of ${CLUSTER_SLOTS} slots at ${where}`);
    }
  }
}

const CLUSTER_SLOTS = 16_384;

function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}
