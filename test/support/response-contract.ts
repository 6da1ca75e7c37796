import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, expect } from '@jest/globals';
import type {
  CompiledContract,
  CompiledResponse,
  CompiledRoute,
  ValidatorFunction,
} from './openapi-contract.js';
import { RESPONSE_CONTRACT_ENV } from './test-env.js';

/**
 * Every response an e2e spec gets through the test app (`call`, and the typed client's
 * `fetch`) is checked against the OpenAPI document the app serves: the operation is found by
 * method and path template, the response by status, and the JSON body and the documented
 * headers are validated with ajv. A mismatch fails the running test (in afterEach, so a spec
 * that ignores a response still fails), naming the operation, the status, ajv's errors and
 * the spec line that made the request.
 *
 * Global setup writes the document with openapi-cli (test/openapi.e2e-spec.ts holds it equal
 * to /openapi.json) and compiles it once per run (test/support/openapi-contract.ts); a spec
 * file only loads the compiled validators.
 */

/** A file to append each spec file's counts to (one JSON line each), for measurements. */
const STATS_FILE_ENV = 'RESPONSE_CONTRACT_STATS';

/**
 * Paths outside the document on purpose, never checked:
 * - `/api/v1/probe/...`: routes that exist only in the e2e tests (test/support/probe.module.ts);
 * - `/docs`, `/openapi.json`: Swagger UI (HTML, scripts, styles) and the document itself;
 * - `/metrics`: Prometheus text for a scraper, not the API (test/metrics.e2e-spec.ts).
 */
const UNDOCUMENTED_PATHS = [
  /^\/api\/v\d+\/probe(\/|$)/,
  /^\/docs(\/|$)/,
  /^\/openapi\.json$/,
  /^\/metrics$/,
];

/**
 * The statuses a `default` response stands for: failures any route can answer whatever it
 * does (body and URL limits, media type, timeout), as the document's description of `default`
 * says. Anything else a route answers (a 409 of its own) must be listed under its number.
 */
const DEFAULT_STATUSES = new Set([413, 414, 415, 431, 504]);

/**
 * Refusals before routing (src/common/http-app.ts: a malformed URL, too many query
 * parameters, a URL or headers too long, failed credentials from a blocked address), which
 * paths outside the document get too.
 */
const BEFORE_ROUTING = new Set([400, 414, 429, 431]);

export interface Exchange {
  method: string;
  /** Path and query as sent, e.g. `/api/v1/keys?limit=5`. */
  path: string;
  requestHeaders: Headers;
  status: number;
  headers: Headers;
  body: string;
}

function describeErrors(validate: ValidatorFunction): string {
  return (validate.errors ?? [])
    .slice(0, 10)
    .map((e) => `  ${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}

function excerpt(text: string): string {
  return text.length > 600 ? `${text.slice(0, 600)}...` : text;
}

class ResponseContract {
  private readonly routes: (CompiledRoute & { regex: RegExp })[];
  readonly stats = { loadMs: 0, responses: 0, validated: 0, skipped: 0, checkMs: 0 };

  constructor(
    private readonly contract: CompiledContract,
    private readonly validators: Record<string, ValidatorFunction>,
  ) {
    this.routes = contract.routes.map((route) => ({ ...route, regex: new RegExp(route.pattern) }));
  }

  /** What is wrong with one response, or null when it is what the document says. */
  check(exchange: Exchange): string | null {
    this.stats.responses += 1;
    const started = performance.now();
    try {
      return this.problemOf(exchange);
    } finally {
      this.stats.checkMs += performance.now() - started;
    }
  }

  private problemOf(exchange: Exchange): string | null {
    const { pathname } = new URL(exchange.path, 'http://test.invalid');
    const method = exchange.method.toUpperCase();
    const preflight =
      method === 'OPTIONS' && exchange.requestHeaders.has('access-control-request-method');
    // A CORS preflight is answered by the CORS layer for any path, not by an operation.
    if (preflight || UNDOCUMENTED_PATHS.some((pattern) => pattern.test(pathname))) {
      this.stats.skipped += 1;
      return null;
    }
    this.stats.validated += 1;
    // Fastify answers HEAD for every GET route, with the GET's status and headers.
    const key = method === 'HEAD' ? 'get' : method.toLowerCase();
    // As the router does: PUT /keys/verify is PUT /keys/{id}, there being no PUT /keys/verify.
    const routes = this.routes.filter((candidate) => candidate.regex.test(pathname));
    const route = routes.find((candidate) => candidate.operations[key] !== undefined) ?? routes[0];
    const operation = route?.operations[key];
    const name = operation?.name ?? `${method} ${pathname}`;
    const fail = (what: string) =>
      `${name} answered ${exchange.status}: ${what}\n  body: ${excerpt(exchange.body)}`;

    if (operation === undefined) {
      // No such path (404), or not with this method (405): the error body and nothing else.
      const expected = route === undefined ? 404 : 405;
      if (BEFORE_ROUTING.has(exchange.status)) {
        return this.bodyProblem(this.contract.errorBody, exchange, fail);
      }
      if (exchange.status !== expected) {
        return fail(
          route === undefined
            ? 'the path is not in the document'
            : `the document has no ${method} for ${route.template}`,
        );
      }
      if (expected === 405 && !exchange.headers.has('allow')) return fail('no Allow header');
      return this.bodyProblem(this.contract.errorBody, exchange, fail);
    }

    const response: CompiledResponse | undefined =
      operation.responses[String(exchange.status)] ??
      (DEFAULT_STATUSES.has(exchange.status) ? operation.responses.default : undefined);
    if (response === undefined) {
      const documented = Object.keys(operation.responses).join(', ');
      return fail(`status not documented (documented: ${documented})`);
    }
    for (const header of response.headers) {
      const value = exchange.headers.get(header.name);
      if (value === null) continue;
      const validate = this.validators[header.validator];
      const typed = header.numeric && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
      if (!validate(typed)) {
        return fail(`header ${header.name}: ${JSON.stringify(value)}\n${describeErrors(validate)}`);
      }
    }
    if (method === 'HEAD') return null;
    if (response.body === null) {
      return exchange.body === '' ? null : fail('the document says this response has no body');
    }
    return this.bodyProblem(response.body, exchange, fail);
  }

  private bodyProblem(
    validator: string,
    exchange: Exchange,
    fail: (what: string) => string,
  ): string | null {
    let body: unknown;
    try {
      body = JSON.parse(exchange.body);
    } catch {
      return fail('the body is not JSON');
    }
    const validate = this.validators[validator];
    return validate(body)
      ? null
      : fail(`body does not match the document:\n${describeErrors(validate)}`);
  }
}

let contract: ResponseContract | undefined;

function loadContract(): ResponseContract {
  if (contract === undefined) {
    const file = process.env[RESPONSE_CONTRACT_ENV];
    if (file === undefined)
      throw new Error(`${RESPONSE_CONTRACT_ENV} is unset: global setup sets it`);
    const started = performance.now();
    const compiled = createRequire(import.meta.url)(file) as CompiledContract &
      Record<string, ValidatorFunction>;
    contract = new ResponseContract(compiled, compiled);
    contract.stats.loadMs = performance.now() - started;
  }
  return contract;
}

/** What is wrong with one response (null: nothing), without failing the running test. */
export function problemWith(exchange: Exchange): string | null {
  return loadContract().check(exchange);
}

/** Mismatches seen since a hook last reported, each with the spec line that made the request. */
const mismatches: string[] = [];

/**
 * Reads a copy of the response's body (the caller still reads the response itself) and
 * records any way the response differs from the document.
 */
export async function checkResponse(
  request: { method: string; path: string; headers: Headers },
  response: Response,
  site: string | undefined,
): Promise<void> {
  const body = await response.clone().text();
  const problem = problemWith({
    method: request.method,
    path: request.path,
    requestHeaders: request.headers,
    status: response.status,
    headers: response.headers,
    body,
  });
  if (problem !== null) mismatches.push(site === undefined ? problem : `${problem}\n  at ${site}`);
}

/** The spec line that is making a request, for the failure message. */
export function callSite(): string | undefined {
  const lines = new Error().stack?.split('\n') ?? [];
  return lines
    .find((line) => /-spec\.[jt]s/.test(line))
    ?.trim()
    .replace(/^at /, '');
}

function reportMismatches(): void {
  if (mismatches.length === 0) return;
  const found = mismatches.splice(0);
  expect({ responsesNotMatchingTheOpenApiDocument: found }).toEqual({
    responsesNotMatchingTheOpenApiDocument: [],
  });
}

afterEach(reportMismatches);
afterAll(() => {
  reportMismatches();
  const file = process.env[STATS_FILE_ENV];
  if (file !== undefined && contract !== undefined) {
    const spec = expect.getState().testPath;
    appendFileSync(file, `${JSON.stringify({ spec, ...contract.stats })}\n`);
  }
});
