import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { RedisNode } from '../../src/config/env.js';
import { isPortFree } from '../../src/launcher/ports.js';

/**
 * A Redis Cluster of local `redis-server` processes on free ports, keeping nothing on disk
 * but its node files in a temporary folder: for the cluster test run, the failover test and
 * the cluster benchmark.
 */
export interface LocalCluster {
  /** Every node, masters first (as `redis-cli --cluster create` was given them). */
  nodes: RedisNode[];
  /** REDIS_CLUSTER_NODES for these nodes. */
  env: string;
  /** Kills one node at once (SIGKILL), as a crash would. */
  kill(port: number): void;
  /** The master that serves `key`'s slot now. */
  masterOf(key: string): Promise<RedisNode>;
  stop(): Promise<void>;
}

/** `count` ports whose cluster bus ports (port + 10000) are free as well. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (ports.some((taken) => Math.abs(taken - port) < 2)) continue;
    if ((await isPortFree(port)) && (await isPortFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

async function clusterInfo(port: number): Promise<Record<string, string>> {
  const redis = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const text = await redis.cluster('INFO');
    return Object.fromEntries(
      text
        .split(/\r?\n/)
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
  } catch {
    return {};
  } finally {
    redis.disconnect();
  }
}

/** Waits until every given node says the cluster is ok with every slot served. */
export async function waitForClusterOk(ports: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ports.map(clusterInfo));
    if (infos.every((info) => info.cluster_state === 'ok' && info.cluster_slots_ok === '16384'))
      return;
    if (Date.now() > deadline) {
      throw new Error(`cluster not ok after ${timeoutMs} ms: ${JSON.stringify(infos)}`);
    }
    await sleep(100);
  }
}

async function replicaLinkUp(port: number): Promise<boolean> {
  const redis = new Redis(port, '127.0.0.1', {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    const info = await redis.info('replication');
    return info.includes('role:slave') && info.includes('master_link_status:up');
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function waitForReplicas(ports: number[], count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await Promise.all(ports.map(replicaLinkUp))).filter(Boolean).length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} replicas synced`);
    await sleep(100);
  }
}

export async function startLocalCluster(
  options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {},
): Promise<LocalCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const ports = await freePorts(masters * (1 + replicas));
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
  const children = new Map<number, ChildProcess>();
  for (const port of ports) {
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
        ...['--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1_000)],
        // A replica may take over however long ago it last heard from its master.
        ...['--cluster-replica-validity-factor', '0'],
        ...['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      ],
      { stdio: 'ignore' },
    );
    children.set(port, child);
  }
  const stop = async () => {
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 10_000;
    for (const port of ports) {
      while ((await isPortFree(port)) && Date.now() < deadline) await sleep(50);
    }
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create: ${create.stdout}`);
    await waitForClusterOk(ports);
    // A failover needs replicas that have synced with their masters.
    await waitForReplicas(ports, masters * replicas);
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  return {
    nodes,
    env: nodes.map((node) => `${node.host}:${node.port}`).join(','),
    kill: (port) => children.get(port)?.kill('SIGKILL'),
    masterOf: async (key) => {
      for (const port of ports) {
        const redis = new Redis(port, '127.0.0.1', {
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        redis.on('error', () => undefined);
        try {
          const slot = await redis.cluster('KEYSLOT', key);
          const ranges = await redis.cluster('SLOTS');
          const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
          if (master !== undefined) return { host: master[0], port: master[1] };
        } catch {
          // a killed node: ask the next one
        } finally {
          redis.disconnect();
        }
      }
      throw new Error(`no node knows who serves ${key}`);
    },
    stop,
  };
}
