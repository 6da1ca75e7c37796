import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { benchDatabase, benchPrefixes, median, numberArg, startWorkerProcess } from './harness.js';

/**
 * The worker's envelope parsing step (src/modules/events/events-step.ts), in one database of
 * its own: `envelopes` small error envelopes (an exception with a short stack trace, as an
 * SDK sends one; 3 projects, 50 distinct errors) stored with their envelope_pending rows, as
 * the ingest route stores them; then one built worker (WORKER_QUEUES=events) is started and
 * timed from its spawn (start-up included) until every envelope is parsed (nothing pending, every event
 * row there). Reports events per second per round and their median.
 * Usage: npm run build && npx tsc -p tsconfig.json && node .build/bench/events-parse.js
 *   [--envelopes=30000 --rounds=3]
 */
const envelopes = numberArg('envelopes', 30_000);
const rounds = numberArg('rounds', 3);

function envelopeBody(i: number): Buffer {
  const eventId = randomUUID().replaceAll('-', '');
  const event = JSON.stringify({
    event_id: eventId,
    timestamp: Date.now() / 1000,
    platform: 'node',
    level: 'error',
    release: 'web@1.0.0',
    environment: 'production',
    tags: { region: 'eu', browser: 'Firefox' },
    user: { id: String(i % 1000) },
    exception: {
      values: [
        {
          type: `Error${i % 50}`,
          value: `something failed for order ${i}`,
          stacktrace: {
            frames: Array.from({ length: 8 }, (_, f) => ({
              filename: `app/file${f}.js`,
              function: `fn${f}`,
              lineno: f * 10,
              in_app: f > 3,
            })),
          },
        },
      ],
    },
  });
  const header = JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString() });
  return Buffer.from(
    `${header}\n{"type":"event","length":${Buffer.byteLength(event)}}\n${event}\n`,
  );
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const organizationId = randomUUID();
  await client.query(`INSERT INTO organizations (id, name, slug) VALUES ($1, 'bench', 'bench')`, [
    organizationId,
  ]);
  const { rows: projects } = await client.query<{ id: number }>(
    `INSERT INTO projects (organization_id, name, slug, public_key)
     SELECT $1, 'p' || n, 'p' || n, md5(random()::text) FROM generate_series(1, 3) AS n
     RETURNING id`,
    [organizationId],
  );
  const bodies = Array.from({ length: envelopes }, (_, i) => gzipSync(envelopeBody(i)));
  const results: number[] = [];
  try {
    for (let round = 1; round <= rounds; round += 1) {
      await client.query('TRUNCATE envelopes, envelope_pending, events, event_issues');
      for (let at = 0; at < envelopes; at += 1_000) {
        const ids = bodies.slice(at, at + 1_000).map(() => randomUUID());
        await client.query(
          `WITH e AS (
             INSERT INTO envelopes (id, received_at, organization_id, project_id, event_id, body,
               body_bytes, item_count)
             SELECT id, now(), $1, ($4::int[])[1 + (ord % 3)], NULL, body, length(body), 1
             FROM unnest($2::uuid[], $3::bytea[]) WITH ORDINALITY AS u(id, body, ord)
             RETURNING id, received_at)
           INSERT INTO envelope_pending (envelope_id, received_at) SELECT id, received_at FROM e`,
          [organizationId, ids, bodies.slice(at, at + 1_000), projects.map((p) => p.id)],
        );
      }
      // Timed from the spawn (its start-up counted against it): the step begins before the
      // process reports ready.
      const started = performance.now();
      const worker = await startWorkerProcess(database.url, {
        ...benchPrefixes(`events-parse-${round}`),
        WORKER_QUEUES: 'events',
      });
      const ready = performance.now();
      for (;;) {
        const { rows } = await client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM envelope_pending',
        );
        if (rows[0]?.n === 0) break;
        await sleep(20);
      }
      const seconds = (performance.now() - started) / 1000;
      const startup = (ready - started) / 1000;
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
      const parsed = rows[0]?.n ?? 0;
      await worker.stop();
      if (parsed !== envelopes) throw new Error(`${parsed} events for ${envelopes} envelopes`);
      const perSecond = parsed / seconds;
      results.push(perSecond);
      process.stdout.write(
        `round ${round}: ${parsed} events in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} events/s, ${startup.toFixed(2)} s of it start-up (load ${loadavg()[0]?.toFixed(2)})\n`,
      );
    }
    process.stdout.write(`median ${median(results).toFixed(0)} events/s\n`);
  } finally {
    await client.end();
    await database.drop();
  }
}

await main();
