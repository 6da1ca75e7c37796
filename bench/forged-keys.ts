import autocannon from 'autocannon';
import pg from 'pg';
import { generateSecret } from '../src/modules/keys/key-secret.js';
import {
  BENCH_ADMIN_ENV,
  benchKey,
  median,
  numberArg,
  percentile,
  startBuiltApi,
  statusCounts,
} from './harness.js';

/**
 * A flood of well-formed but unknown API keys (the checksum is public, so forging them is
 * free), from the same address as a valid key's traffic (one attacker behind a shared NAT).
 *
 * 1. Postgres per flood request: a fixed number of flood requests, each with a key never sent
 *    before, counting the database's transactions (pg_stat_database) during the run, with the
 *    answers split into 401 (looked up, or answered from the unknown-key memory) and 429 (over
 *    AUTH_FAILURES_PER_IP, answered before any lookup). Then, with the per-address limit
 *    raised so that every answer is a 401: a pool of repeated forged keys (the unknown-key
 *    memory alone) and distinct keys (what the per-address limit saves).
 * 2. The valid key under the flood: the valid key at a fixed rate, in interleaved rounds of
 *    three runs: alone, beside a fixed-rate flood of forged keys, and beside a flood of the
 *    same rate of bare requests (GET /health/live). On this 2-core machine the flood and the
 *    client share the CPU with the api, so any flood slows the api a little; the bare flood
 *    shows that share, and the forged-key flood should cost no more than it: the gate is the
 *    valid key's p50 beside the forged flood over its p50 beside the bare one (median of the
 *    rounds' ratios) <= 1.10. GET /health/live is the cheapest route the api serves (it still
 *    passes Nest's router, guards and interceptors), so it stands for any traffic of that rate.
 * 3. The api's CPU time per request at full speed, in rotating rounds: a forged key's answer,
 *    a bare request, an unmatched URL's 404 (the least any request costs: Fastify's router and
 *    the error filter) and a valid key's request (CPU time is steadier than latency when other
 *    work shares the machine).
 * Usage: npm run bench:forged-keys [-- --rounds=6 --seconds=5 --valid-rate=200 --flood-rate=1000 --requests=20000]
 */
const rounds = numberArg('rounds', 6);
const seconds = numberArg('seconds', 5);
const validRate = numberArg('valid-rate', 200);
const floodRate = numberArg('flood-rate', 1000);
const requests = numberArg('requests', 20_000);

/** Forged secrets: more than the unknown-key memory holds (10,000), so each is new to it. */
const forged = Array.from({ length: 50_000 }, (_, i) =>
  generateSecret(i % 2 === 0 ? 'live' : 'test'),
);
let nextForged = 0;
const forgedKey = () => forged[(nextForged = (nextForged + 1) % forged.length)] ?? '';

interface Run {
  requests: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

/** `latencies`: every response's time, in ms with µs precision (autocannon's own are whole ms). */
function summary(result: autocannon.Result, latencies: number[]): Run {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    statuses: statusCounts(result),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
}

/** A load of `url`; `key` gives each request's X-API-Key (a new forged one per request). */
async function load(
  url: string,
  options: { rate?: number; seconds?: number; amount?: number; key?: () => string },
): Promise<Run> {
  const key = options.key;
  const latencies: number[] = [];
  const config: autocannon.Options = {
    url,
    connections: options.rate === undefined ? 50 : 20,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    ...(options.amount !== undefined
      ? { amount: options.amount }
      : { duration: options.seconds ?? seconds }),
    ...(key === undefined
      ? {}
      : {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                headers: { ...request.headers, 'x-api-key': key() },
              }),
            },
          ],
        }),
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(config, (error: Error | null, done: autocannon.Result) =>
      error === null ? resolve(done) : reject(error),
    ).on('response', (_client, _status, _bytes, responseMs) => latencies.push(responseMs));
  });
  return summary(result, latencies);
}

/** Transactions the api's database has committed or rolled back (pg_stat lags up to 1 s). */
async function transactionCounter(databaseUrl: string) {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const read = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          'SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()',
        )
      ).rows[0]?.n ?? 0,
    );
  return {
    /** Postgres transactions during `work`, less this counter's own reading. */
    async during(work: () => Promise<Run>): Promise<{ run: Run; transactions: number }> {
      const before = await read();
      const run = await work();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { run, transactions: Math.max((await read()) - before - 1, 0) };
    },
    end: () => db.end(),
  };
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const statusText = (run: Run) =>
  Object.entries(run.statuses)
    .map(([code, count]) => `${count} x ${code}`)
    .join(', ');

// 1. Postgres per flood request, with the default per-address limit.
const api = await startBuiltApi(BENCH_ADMIN_ENV);
try {
  const secret = await benchKey(api);
  const me = `${api.url}/api/v1/auth/me`;
  const counter = await transactionCounter(api.databaseUrl);
  const cpuBefore = api.cpuMs();
  const flood = await counter.during(() => load(me, { amount: requests, key: forgedKey }));
  const cpuUs = ((api.cpuMs() - cpuBefore) * 1000) / Math.max(flood.run.requests, 1);
  out(
    `flood of ${flood.run.requests} distinct forged keys (AUTH_FAILURES_PER_IP default): ${statusText(flood.run)}; ` +
      `${flood.transactions} Postgres transactions = ${(flood.transactions / flood.run.requests).toFixed(4)} per request (goal <= 0.01); ` +
      `api CPU ${cpuUs.toFixed(0)} µs per request`,
  );
  await counter.end();

  // 2. The valid key at a fixed rate: alone, beside a forged-key flood, beside a bare flood.
  await load(me, { rate: validRate, seconds: 2, key: () => secret });
  const alone: Run[] = [];
  const forgedFlood: Run[] = [];
  const bareFlood: Run[] = [];
  const floodStatuses: Record<string, number> = {};
  /** Flood requests actually sent beside the valid key (the machine may not reach the rate). */
  const floodSent = { forged: 0, bare: 0 };
  /** This round's flood rates reached, as printed. */
  const reached = { forged: 0, bare: 0 };
  const valid = () => load(me, { rate: validRate, key: () => secret });
  const beside = async (floodUrl: string, key?: () => string) => {
    const [run, floodRun] = await Promise.all([
      valid(),
      load(floodUrl, { rate: floodRate, seconds, ...(key === undefined ? {} : { key }) }),
    ]);
    floodSent[key === undefined ? 'bare' : 'forged'] += floodRun.requests;
    reached[key === undefined ? 'bare' : 'forged'] = floodRun.requests / seconds;
    if (key !== undefined) {
      for (const [code, count] of Object.entries(floodRun.statuses))
        floodStatuses[code] = (floodStatuses[code] ?? 0) + count;
    }
    return run;
  };
  /** p50 and p99 of one run, as printed. */
  const latency = (run: Run | undefined) =>
    `${run?.p50Ms.toFixed(2) ?? '-'}/${run?.p99Ms.toFixed(2) ?? '-'}`;
  const ratio = (of: number, to: number) => (to > 0 ? of / to : Number.NaN);
  /** Per round: the valid key's p50 beside the forged flood over its p50 beside the bare one. */
  const forgedOverBare: number[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    // Rotate which run goes first, so a drift in the machine's speed favours none.
    const runs = [
      async () => alone.push(await valid()),
      async () => forgedFlood.push(await beside(me, forgedKey)),
      async () => bareFlood.push(await beside(`${api.url}/health/live`)),
    ];
    for (let i = 0; i < runs.length; i += 1) await runs[(round + i) % runs.length]?.();
    const [a, f, b] = [alone.at(-1), forgedFlood.at(-1), bareFlood.at(-1)];
    forgedOverBare.push(ratio(f?.p50Ms ?? 0, b?.p50Ms ?? 0));
    out(
      `round ${round}: valid key at ${validRate}/s, p50/p99 ms: alone ${latency(a)}` +
        ` | beside forged flood ${latency(f)} | beside bare flood ${latency(b)}` +
        ` | forged/bare p50 ${forgedOverBare.at(-1)?.toFixed(3)}, forged/alone p50 ${ratio(f?.p50Ms ?? 0, a?.p50Ms ?? 0).toFixed(3)}` +
        ` (floods reached ${reached.forged.toFixed(0)}/s forged, ${reached.bare.toFixed(0)}/s bare;` +
        ` non-200: ${[a, f, b].map((r) => (r?.requests ?? 0) - (r?.statuses['200'] ?? 0)).join('/')})`,
    );
  }
  const med = (runs: Run[], pick: (run: Run) => number) => median(runs.map(pick));
  const p50 = (runs: Run[]) => med(runs, (run) => run.p50Ms);
  const p99 = (runs: Run[]) => med(runs, (run) => run.p99Ms);
  const medians = (runs: Run[]) => `${p50(runs).toFixed(2)}/${p99(runs).toFixed(2)}`;
  const gateRatio = median(forgedOverBare);
  out(
    `valid key at ${validRate}/s (median of ${rounds} rounds), p50/p99 ms: alone ${medians(alone)}, ` +
      `beside ${floodRate}/s forged keys ${medians(forgedFlood)}, ` +
      `beside ${floodRate}/s bare GET /health/live ${medians(bareFlood)}\n` +
      `  forged/bare: p50 ${gateRatio.toFixed(3)} (median of the rounds' ratios; ratio of the medians ${ratio(p50(forgedFlood), p50(bareFlood)).toFixed(3)}), ` +
      `p99 ${ratio(p99(forgedFlood), p99(bareFlood)).toFixed(3)}: what the forgery costs beyond any traffic of that rate\n` +
      `  forged/alone: p50 ${ratio(p50(forgedFlood), p50(alone)).toFixed(3)}, p99 ${ratio(p99(forgedFlood), p99(alone)).toFixed(3)} ` +
      `(any flood slows the api here: the load generator shares this machine's CPU with it; bare/alone p50 ${ratio(p50(bareFlood), p50(alone)).toFixed(3)})\n` +
      `  floods reached ${(floodSent.forged / (rounds * seconds)).toFixed(0)}/s forged and ${(floodSent.bare / (rounds * seconds)).toFixed(0)}/s bare; ` +
      `the forged flood's answers: ${Object.entries(floodStatuses)
        .map(([code, count]) => `${count} x ${code}`)
        .join(', ')}\n` +
      `gate forged/bare p50 <= 1.10: ${gateRatio <= 1.1 ? 'PASS' : 'FAIL'}`,
  );

  // 3. The api's CPU per request, each side at full speed alone (steadier than latency on a
  //    busy machine): a forged key's answer against a bare request and a valid key's request.
  const cpuPerRequest = async (url: string, key?: () => string) => {
    const before = api.cpuMs();
    const run = await load(url, { seconds: 3, ...(key === undefined ? {} : { key }) });
    return { us: ((api.cpuMs() - before) * 1000) / Math.max(run.requests, 1), run };
  };
  const cpu = {
    forged: [] as number[],
    bare: [] as number[],
    unmatched: [] as number[],
    valid: [] as number[],
  };
  for (let round = 1; round <= rounds; round += 1) {
    const runs = [
      async () => cpu.forged.push((await cpuPerRequest(me, forgedKey)).us),
      async () => cpu.bare.push((await cpuPerRequest(`${api.url}/health/live`)).us),
      async () => cpu.unmatched.push((await cpuPerRequest(`${api.url}/no-such-route`)).us),
      async () => cpu.valid.push((await cpuPerRequest(me, () => secret)).us),
    ];
    for (let i = 0; i < runs.length; i += 1) await runs[(round + i) % runs.length]?.();
  }
  out(
    `api CPU per request (median of ${rounds} rounds of 3 s at full speed): forged key ${median(cpu.forged).toFixed(0)} µs, ` +
      `bare GET /health/live ${median(cpu.bare).toFixed(0)} µs, unmatched URL (404) ${median(cpu.unmatched).toFixed(0)} µs, ` +
      `valid key ${median(cpu.valid).toFixed(0)} µs ` +
      `(forged / bare ${(median(cpu.forged) / median(cpu.bare)).toFixed(3)}, forged / unmatched ${(median(cpu.forged) / median(cpu.unmatched)).toFixed(3)})`,
  );
} finally {
  await api.stop();
}

// 1b. Without the per-address limit: what the unknown-key memory does alone.
const unlimited = await startBuiltApi({ AUTH_FAILURES_PER_IP: '1000000' });
try {
  const me = `${unlimited.url}/api/v1/auth/me`;
  const counter = await transactionCounter(unlimited.databaseUrl);
  const pool = forged.slice(0, 1_000);
  let next = 0;
  const repeated = await counter.during(() =>
    load(me, { amount: requests, key: () => pool[(next = (next + 1) % pool.length)] ?? '' }),
  );
  out(
    `limit raised, ${repeated.run.requests} requests cycling 1,000 forged keys: ${statusText(repeated.run)}; ` +
      `${(repeated.transactions / repeated.run.requests).toFixed(4)} Postgres transactions per request`,
  );
  const distinct = await counter.during(() =>
    load(me, { amount: Math.min(requests, 5_000), key: forgedKey }),
  );
  out(
    `limit raised, ${distinct.run.requests} distinct forged keys: ${statusText(distinct.run)}; ` +
      `${(distinct.transactions / distinct.run.requests).toFixed(4)} Postgres transactions per request ` +
      `(what AUTH_FAILURES_PER_IP saves)`,
  );
  await counter.end();
} finally {
  await unlimited.stop();
}
