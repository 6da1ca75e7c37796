import { spawnSync } from 'node:child_process';
import { redisServerInstalled } from '../../src/launcher/local-redis.js';
import { type LocalCluster, startLocalCluster } from './redis-cluster.js';

/**
 * `npm test`: every spec against one Redis, then the specs of everything that keeps state in
 * Redis against a Redis Cluster: TEST_REDIS_CLUSTER_NODES if given, else a local 3-master
 * cluster started here on free ports (needs `redis-server`; CI requires it, elsewhere the
 * cluster run is skipped with a note, unless TEST_REDIS_CLUSTER=1 requires it). Arguments go
 * to Jest (a spec pattern runs only those specs, on one Redis, unless TEST_REDIS_CLUSTER=1).
 * TEST_REDIS_CLUSTER=0 skips the cluster run.
 * Results: .build/jest-results.json and .build/jest-cluster-results.json.
 */
const CLUSTER_SPECS = [
  'test/limiter\\.e2e',
  'test/keys\\.e2e', // keys, revocation markers, the key-cache bus
  'test/quotas\\.e2e', // quotas, and the usage queue from the api to its worker
  'test/explain\\.e2e',
  'test/http-conventions\\.e2e', // idempotency records
  'test/credential-failures\\.e2e', // the forged-key memory and failure counts
  'test/auth\\.e2e', // the login throttler's storage
  'test/membership-cache\\.e2e', // the pub/sub bus
  'test/rate-limits\\.e2e', // policies and plans on every process, through the bus
  'test/limits-consistency\\.e2e', // the limits' generation, checked in the limiter's script
  'test/processes\\.e2e', // api and worker processes, the retention queue
  'test/usage\\.e2e', // the usage queue from two api processes to the worker
  'test/redis-cluster\\.e2e',
];

function jest(args: string[], outputFile: string, env: NodeJS.ProcessEnv): number {
  const result = spawnSync(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      'node_modules/jest/bin/jest.js',
      '--json',
      `--outputFile=${outputFile}`,
      ...args,
    ],
    { stdio: 'inherit', env },
  );
  return result.status ?? 1;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const single = jest(args, '.build/jest-results.json', {
    ...process.env,
    TEST_REDIS_CLUSTER_NODES: '',
  });

  const wanted = process.env.TEST_REDIS_CLUSTER ?? (args.length > 0 ? '0' : '1');
  if (wanted === '0') return single;
  let cluster: LocalCluster | undefined;
  let nodes = process.env.TEST_REDIS_CLUSTER_NODES ?? '';
  if (nodes === '') {
    if (!redisServerInstalled()) {
      const note = 'cluster run skipped: no redis-server here (or set TEST_REDIS_CLUSTER_NODES)';
      process.stderr.write(`\n${note}\n`);
      const required = process.env.TEST_REDIS_CLUSTER === '1' || process.env.CI === 'true';
      return required ? 1 : single;
    }
    cluster = await startLocalCluster({ masters: 3 });
    nodes = cluster.env;
  }
  process.stderr.write(`\n=== the Redis specs again, on the Redis Cluster at ${nodes}\n`);
  try {
    const patterns = args.length > 0 ? args : CLUSTER_SPECS;
    const onCluster = jest(patterns, '.build/jest-cluster-results.json', {
      ...process.env,
      TEST_REDIS_CLUSTER_NODES: nodes,
    });
    return single !== 0 ? single : onCluster;
  } finally {
    await cluster?.stop();
  }
}

process.exitCode = await main();
