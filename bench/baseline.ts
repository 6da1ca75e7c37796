import { measure, median, numberArg, startBuiltApi } from './harness.js';

/**
 * The baseline every later benchmark divides by: `GET /health/live` of the built api
 * (no auth, no database, no Redis on the request path), in rounds, reporting the median
 * req/s and p99. Usage: npm run bench:baseline [-- --rounds=5 --seconds=5 --connections=50]
 */
const rounds = numberArg('rounds', 5);
const seconds = numberArg('seconds', 5);
const connections = numberArg('connections', 50);

const api = await startBuiltApi();
try {
  await measure(`${api.url}/health/live`, { seconds: 2, connections }); // warm-up, not counted
  const samples = [];
  for (let round = 1; round <= rounds; round += 1) {
    const sample = await measure(`${api.url}/health/live`, { seconds, connections });
    samples.push(sample);
    process.stdout.write(
      `round ${round}: ${sample.requestsPerSecond.toFixed(0)} req/s, p99 ${sample.p99Ms} ms, errors ${sample.errors}, non-2xx ${sample.non2xx}\n`,
    );
  }
  const failures = samples.reduce((sum, s) => sum + s.errors + s.non2xx, 0);
  process.stdout.write(
    `baseline GET /health/live: median ${median(samples.map((s) => s.requestsPerSecond)).toFixed(0)} req/s, ` +
      `median p99 ${median(samples.map((s) => s.p99Ms))} ms over ${rounds} x ${seconds} s, ` +
      `${connections} connections, ${failures} failed requests\n`,
  );
  if (failures > 0) process.exitCode = 1;
} finally {
  await api.stop();
}
