import { randomUUID } from 'node:crypto';

/**
 * Envelopes as an unmodified @sentry/node SDK sends them (one `event` item, no `length`, a few
 * KB): mostly captured exceptions with a stack of 10 frames (context lines, in-app and
 * node_modules frames), breadcrumbs, contexts, request, tags, user, release and environment;
 * some captureMessage events. Errors come from `sites` places in the code and messages from
 * `templates` templates, picked with a skew (a few issues get most events, as in production),
 * so they form up to sites + templates issues. Deterministic for a given seed, apart from the
 * event ids.
 */
export interface EnvelopeMix {
  sites: number;
  templates: number;
  /** The share of message events (the rest are exceptions). */
  messageShare: number;
  seed: number;
}

const SERVICES = ['cart', 'checkout', 'orders', 'billing', 'users', 'search', 'inventory'];
const ERRORS = ['TypeError', 'RangeError', 'Error', 'ValidationError', 'TimeoutError'];
const LIBRARY_FRAMES = [
  ['node:internal/process/task_queues', 'process.processTicksAndRejections', 95],
  ['/app/node_modules/@nestjs/core/router/router-execution-context.js', 'handler', 46],
  ['/app/node_modules/@nestjs/core/router/router-proxy.js', 'Object.next', 9],
  ['/app/node_modules/fastify/lib/handleRequest.js', 'preHandlerCallback', 137],
  ['/app/node_modules/pg-pool/index.js', 'Client.query', 45],
] as const;

/** mulberry32: a small seeded PRNG, so runs send the same mix. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (bytes: number) =>
  randomUUID()
    .replaceAll('-', '')
    .slice(0, bytes * 2);

function frame(service: string, fn: string, line: number) {
  return {
    filename: `/app/dist/${service}/${fn.split('.')[0]?.toLowerCase()}.js`,
    module: `${service}:${fn.split('.')[0]?.toLowerCase()}`,
    function: fn,
    lineno: line,
    colno: 17 + (line % 40),
    in_app: true,
    pre_context: [
      `  async ${fn.split('.')[1] ?? fn}(input) {`,
      `    const started = Date.now();`,
      `    const record = await this.repository.find(input.id);`,
      `    if (!record) throw new NotFoundError(input.id);`,
      `    this.logger.debug({ id: input.id }, 'loaded');`,
    ],
    context_line: `    const total = record.items.reduce((sum, item) => sum + item.price * item.quantity, 0);`,
    post_context: [
      `    await this.events.emit('${service}.updated', { id: record.id, total });`,
      `    this.metrics.observe(Date.now() - started);`,
      `    return { ...record, total };`,
      `  }`,
      ``,
    ],
  };
}

function breadcrumbs(pick: () => number, now: number) {
  return Array.from({ length: 8 }, (_, b) => ({
    timestamp: now - (8 - b) * 0.35,
    category: b % 3 === 0 ? 'console' : 'http',
    level: 'info',
    ...(b % 3 === 0
      ? { message: `processed batch ${Math.floor(pick() * 1000)} in ${Math.floor(pick() * 90)} ms` }
      : {
          type: 'http',
          data: {
            method: 'GET',
            url: `http://inventory.internal:8080/v1/items/${Math.floor(pick() * 10000)}`,
            status_code: 200,
          },
        }),
  }));
}

/** The body of one envelope; `i` varies the user, order numbers and tags. */
function envelope(i: number, pick: () => number, mix: EnvelopeMix): string {
  const eventId = hex(16);
  const now = Date.now() / 1000;
  const traceId = hex(16);
  const isMessage = pick() < mix.messageShare;
  // Squared: the low numbers (a few issues) get most events.
  const site = Math.floor(pick() ** 2 * mix.sites);
  const template = Math.floor(pick() ** 2 * mix.templates);
  const service = SERVICES[site % SERVICES.length] ?? 'cart';
  const sdk = {
    name: 'sentry.javascript.node',
    version: '8.45.0',
    integrations: ['InboundFilters', 'FunctionToString', 'LinkedErrors', 'Console', 'Http'],
    packages: [{ name: 'npm:@sentry/node', version: '8.45.0' }],
  };
  const region = ['eu-west-1', 'us-east-1', 'ap-south-1'][i % 3] ?? 'eu-west-1';
  const common = {
    event_id: eventId,
    timestamp: now,
    platform: 'node',
    server_name: `web-${i % 7}`,
    release: `shop-api@2.${Math.floor(i / 5000)}.0`,
    environment: i % 10 === 0 ? 'staging' : 'production',
    tags: { region, service, transaction: `POST /api/${service}/:id`, 'node.version': 'v22.11.0' },
    user: {
      id: String(1000 + (i % 2000)),
      email: `user${i % 2000}@example.com`,
      ip_address: `10.1.${i % 250}.${(i * 7) % 250}`,
    },
    request: {
      method: 'POST',
      url: `https://shop.example.com/api/${service}/${i}`,
      headers: {
        host: 'shop.example.com',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        accept: 'application/json',
        'content-type': 'application/json',
      },
    },
    contexts: {
      trace: { trace_id: traceId, span_id: hex(8), op: 'http.server', status: 'internal_error' },
      runtime: { name: 'node', version: 'v22.11.0' },
      app: {
        app_start_time: new Date(Date.now() - 3_600_000).toISOString(),
        app_memory: 181_000_000,
      },
      os: { kernel_version: '6.1.0-27-amd64', name: 'Linux', version: '6.1.0' },
      device: {
        arch: 'x64',
        memory_size: 8_324_694_016,
        free_memory: 2_130_000_000,
        processor_count: 2,
        cpu_description: 'Intel(R) Xeon(R) CPU @ 2.20GHz',
        processor_frequency: 2200,
      },
      culture: { locale: 'en-US', timezone: 'UTC' },
    },
    breadcrumbs: { values: breadcrumbs(pick, now) },
    sdk,
  };
  const event = isMessage
    ? {
        ...common,
        level: template % 4 === 0 ? 'warning' : 'info',
        logentry: {
          message: `payment provider answered %s for merchant %s (template ${template})`,
          params: [String(400 + (i % 5)), `m-${i % 300}`],
        },
        message: `payment provider answered ${400 + (i % 5)} for merchant m-${i % 300} (template ${template})`,
      }
    : {
        ...common,
        level: 'error',
        exception: {
          values: [
            {
              type: ERRORS[site % ERRORS.length],
              value: `Cannot read properties of undefined (reading 'items') for order ${i} at site ${site}`,
              mechanism: { type: 'onunhandledrejection', handled: false },
              stacktrace: {
                frames: [
                  ...LIBRARY_FRAMES.map(([filename, fn, lineno]) => ({
                    filename,
                    module: filename.replace(/^\/app\/node_modules\//, ''),
                    function: fn,
                    lineno,
                    colno: 5,
                    in_app: false,
                  })),
                  ...Array.from({ length: 5 }, (_, f) =>
                    frame(
                      service,
                      `${service[0]?.toUpperCase()}${service.slice(1)}Step${(site + f) % 97}.run${f}`,
                      20 + f * 13,
                    ),
                  ),
                ],
              },
            },
          ],
        },
      };
  const header = {
    event_id: eventId,
    sent_at: new Date().toISOString(),
    sdk: { name: sdk.name, version: sdk.version },
    trace: { trace_id: traceId, environment: common.environment, release: common.release },
  };
  return `${JSON.stringify(header)}\n{"type":"event"}\n${JSON.stringify(event)}\n`;
}

export function sentryEnvelopes(count: number, mix: EnvelopeMix): string[] {
  const pick = random(mix.seed);
  return Array.from({ length: count }, (_, i) => envelope(i, pick, mix));
}
