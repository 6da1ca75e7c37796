import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import type { Transform } from 'node:stream';
import {
  constants,
  createBrotliCompress,
  createDeflate,
  createDeflateRaw,
  createGzip,
} from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../src/launcher/ports.js';
import { type BuiltProcess, killBuiltProcesses, startBuilt } from './support/built-process.js';
import { type Account, as, registerOwner } from './support/identity.js';
import { eventually } from './support/wait.js';

const MB = 1024 * 1024;
/** The ingest route's limits (src/modules/envelopes/envelope-errors.ts). */
const MAX_COMPRESSED_BYTES = 20 * MB;
const MAX_ENVELOPE_BYTES = 100 * MB;
/**
 * What a refused bomb may add to the api's peak RSS, with margin. gzip and deflate add about
 * 1 MB (measured +0.1 to +1.0); brotli's decoder holds a ring buffer as large as the stream's
 * window, 4 MB at most: +4.6 MB as a rule, +0.7 when the allocator had the pages already, once
 * +7.1 beside another spec. A larger window is refused before decoding; the largest (16 MB)
 * added +12 to +17 MB when it was decoded.
 */
const MAX_PEAK_RSS_GROWTH = 10 * MB;

const mb = (bytes: number) => (bytes / MB).toFixed(1);

interface ErrorBody {
  error: { code: string; details: { reason?: string } };
}

/** Brotli at a bomb-maker's speed, with a window of 2^`lgwin` bytes (RFC 7932 WBITS). */
const brotli = (lgwin: number) =>
  createBrotliCompress({
    params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_LGWIN]: lgwin },
  });

/** The answer to `sending`, read whole, and when it ended. */
function answerOf(sending: ClientRequest): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve) => {
    sending.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, at: performance.now() }),
      );
    });
  });
}

/** Writes to `compressor`, waiting when it asks to. */
async function write(compressor: Transform, bytes: Buffer): Promise<void> {
  if (!compressor.write(bytes)) await once(compressor, 'drain');
}

/** Everything `fill` writes, through `compressor`. */
async function compressed(
  compressor: Transform,
  fill: (compressor: Transform) => Promise<void>,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  compressor.on('data', (chunk: Buffer) => parts.push(chunk));
  await fill(compressor);
  compressor.end();
  await once(compressor, 'end');
  return Buffer.concat(parts);
}

/**
 * An envelope of 8 MB attachments of zeros (each length within the limits) up to 16 KB short
 * of the decompressed limit: valid. With `trailingZeros`, a decompression bomb the parser
 * cannot refuse early: those zeros are read as the next item header until the decompressed
 * limit refuses them, so everything up to the limit is decompressed.
 */
async function zerosEnvelope(compressor: Transform, trailingZeros = 0): Promise<void> {
  const zeros = Buffer.alloc(8 * MB);
  let position = 0;
  const put = async (bytes: Buffer) => {
    await write(compressor, bytes);
    position += bytes.length;
  };
  await put(Buffer.from(`{"event_id":"${'ab'.repeat(16)}"}\n`));
  const end = MAX_ENVELOPE_BYTES - 16 * 1024;
  while (position < end) {
    const header = (length: number) => `{"type":"attachment","length":${length}}\n`;
    const length = Math.min(zeros.length, end - position - header(zeros.length).length - 1);
    await put(Buffer.from(header(length)));
    await put(zeros.subarray(0, length));
    await put(Buffer.from('\n'));
  }
  for (let left = trailingZeros; left > 0; left -= zeros.length) {
    await put(zeros.subarray(0, Math.min(left, zeros.length)));
  }
}

/** Resident and peak resident bytes of a process (Linux, /proc/<pid>/status). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

/** What the peak RSS grew by since `before` (its RSS then). */
function growthOf(pid: number, before: { rss: number }): string {
  const { peak } = memoryOf(pid);
  return `rss ${mb(before.rss)} MB before, peak ${mb(peak)} MB: +${mb(peak - before.rss)} MB`;
}

/** A measurement, into the test output (the numbers the bounds below are checked against). */
function report(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Resets the process's peak RSS to its current RSS (clear_refs 5, Linux 4.0+). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

describe('envelope limits against the built api process', () => {
  let api: BuiltProcess;
  let url: string;
  let owner: Account;
  let project: { id: number; public_key: string };

  const auth = () => ({
    'x-sentry-auth': `Sentry sentry_key=${project.public_key}, sentry_version=7`,
  });
  const send = (body: Buffer | string, headers: Record<string, string> = {}) =>
    fetch(`${url}/api/${project.id}/envelope/`, {
      method: 'POST',
      headers: { ...auth(), ...headers },
      body,
    });
  const validEnvelope = () => {
    const id = crypto.randomUUID().replaceAll('-', '');
    return `{"event_id":"${id}"}\n{"type":"event"}\n{"event_id":"${id}","message":"ok"}\n`;
  };

  beforeAll(async () => {
    const port = await freePort(43000 + Math.floor(Math.random() * 2000));
    url = `http://127.0.0.1:${port}`;
    api = startBuilt('main', [], { PORT: String(port), LOG_LEVEL: 'warn' });
    await eventually(
      async () => expect((await fetch(`${url}/health/ready`)).status).toBe(200),
      20_000,
    );
    const remote = { call: (path: string, init?: RequestInit) => fetch(`${url}${path}`, init) };
    owner = await registerOwner(remote, 'limits');
    const created = await fetch(`${url}/api/v1/projects`, as(owner, 'POST', { name: 'Bombs' }));
    expect(created.status).toBe(201);
    project = ((await created.json()) as { data: typeof project }).data;
    // The first large envelope of any kind grows V8's young generation to its maximum (two
    // 16 MB semi-spaces) for good: a valid one of almost 100 MB does here, so what the bombs
    // below are measured against is the process as it runs under real traffic.
    const valid = await compressed(createGzip(), (to) => zerosEnvelope(to));
    const pid = api.child.pid ?? 0;
    resetPeak(pid);
    const before = memoryOf(pid);
    expect((await send(valid, { 'content-encoding': 'gzip' })).status).toBe(200);
    report(`valid ${mb(MAX_ENVELOPE_BYTES)} MB gzip envelope: ${growthOf(pid, before)}`);
  }, 60_000);

  afterAll(() => killBuiltProcesses());

  it('answers a Content-Length over 20 MB with 413 before reading the body, then lets the connection go', async () => {
    const started = performance.now();
    // Headers claiming 21 MB, then 1 KB of body; the rest never comes.
    const sending = request(`${url}/api/${project.id}/envelope/`, {
      method: 'POST',
      headers: { ...auth(), 'content-length': String(MAX_COMPRESSED_BYTES + MB) },
    });
    sending.on('error', () => undefined);
    const closed = new Promise<number>((resolve) =>
      sending.on('socket', (socket) => socket.on('close', () => resolve(performance.now()))),
    );
    const answer = answerOf(sending);
    sending.write(Buffer.alloc(1024, 0x61));
    const { status, body, at } = await answer;
    report(`413 for a 21 MB Content-Length after ${(at - started).toFixed(1)} ms`);
    expect(status).toBe(413);
    expect((JSON.parse(body) as ErrorBody).error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      details: { reason: 'body larger than the limit' },
    });
    // Nothing waited for the 21 MB (Node's request timeout would take 300 s).
    expect(at - started).toBeLessThan(2_000);
    // The rest of the body is dropped for a while (so that a client still sending reads its
    // 413, not a reset), then the server closes the connection: it does not wait for 21 MB.
    const closedAt = await closed;
    report(`connection closed by the api ${(closedAt - at).toFixed(0)} ms after the 413`);
    expect(closedAt - at).toBeLessThan(10_000);
    sending.destroy();
    expect((await send(validEnvelope())).status).toBe(200);
  }, 30_000);

  it.each([
    ['gzip', () => createGzip({ level: 9 })],
    // The largest window taken (4 MB, the libraries' default): the decoder's ring buffer is
    // that large.
    ['br', () => brotli(22)],
    ['deflate', () => createDeflate({ level: 9 })],
    // Raw deflate, as some clients send it under the same name.
    ['deflate', () => createDeflateRaw({ level: 9 })],
  ] as const)(
    'a %s bomb (150 MB decompressed) is a 413, the api stays up and its peak RSS barely moves',
    async (encoding, compressor) => {
      const bomb = await compressed(compressor(), (to) =>
        zerosEnvelope(to, MAX_ENVELOPE_BYTES / 2),
      );
      expect(bomb.length).toBeLessThan(MB);
      // Warm: the route and this encoding's decoder have run once already.
      const warm = await compressed(compressor(), (to) => write(to, Buffer.from(validEnvelope())));
      expect((await send(warm, { 'content-encoding': encoding })).status).toBe(200);
      const pid = api.child.pid ?? 0;
      resetPeak(pid);
      const before = memoryOf(pid);
      const response = await send(bomb, { 'content-encoding': encoding });
      const body = (await response.json()) as ErrorBody;
      const growth = memoryOf(pid).peak - before.rss;
      report(`${encoding} bomb of ${bomb.length} bytes: ${growthOf(pid, before)}`);
      expect(response.status).toBe(413);
      expect(body.error).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        details: { reason: 'envelope larger than the limit' },
      });
      expect(growth).toBeLessThan(MAX_PEAK_RSS_GROWTH);
      expect(api.child.exitCode).toBeNull();
      expect((await send(validEnvelope())).status).toBe(200);
    },
    60_000,
  );

  it('a brotli bomb declaring a 16 MB window is a 413 from its first byte, before any of it is decoded', async () => {
    // The format's largest window: decoding it would hold a 16 MB ring buffer.
    const bomb = await compressed(brotli(24), (to) => zerosEnvelope(to, MAX_ENVELOPE_BYTES / 2));
    const pid = api.child.pid ?? 0;
    resetPeak(pid);
    const before = memoryOf(pid);
    const sending = request(`${url}/api/${project.id}/envelope/`, {
      method: 'POST',
      headers: { ...auth(), 'content-encoding': 'br', 'content-length': String(bomb.length) },
    });
    sending.on('error', () => undefined);
    const answer = answerOf(sending);
    // Only the first byte is sent before the answer: it declares the window (24 is 0b1111 in its
    // lowest bits), and it alone decides.
    expect(bomb[0] & 0b1111).toBe(0b1111);
    sending.write(bomb.subarray(0, 1));
    const { status, body } = await answer;
    const growth = memoryOf(pid).peak - before.rss;
    report(`br bomb of ${bomb.length} bytes with a 16 MB window: ${growthOf(pid, before)}`);
    expect(status).toBe(413);
    expect((JSON.parse(body) as ErrorBody).error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      details: { reason: 'brotli window larger than 4 MB' },
    });
    expect(growth).toBeLessThan(MAX_PEAK_RSS_GROWTH);
    // The rest of the body, sent in time, is read and dropped (lingerThenClose).
    sending.end(bomb.subarray(1));
    expect(api.child.exitCode).toBeNull();
    expect((await send(validEnvelope())).status).toBe(200);
  }, 60_000);
});
