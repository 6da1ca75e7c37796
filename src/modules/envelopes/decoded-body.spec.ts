import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Readable } from 'node:stream';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decodedBody } from './decoded-body.js';
import { DEFAULT_ENVELOPE_LIMITS, EnvelopeError, type EnvelopeLimits } from './envelope-errors.js';
import { parseEnvelope } from './envelope-parser.js';

const ENVELOPE = Buffer.from(
  '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event"}\n{"message":"boom ✓"}\n',
);

/** A body stream in `size`-byte chunks that counts how many bytes were pulled from it. */
function countedStream(bytes: Buffer, size = 16 * 1024): Readable & { pulled: () => number } {
  let at = 0;
  const stream = new Readable({
    read() {
      if (at >= bytes.length) return void this.push(null);
      this.push(bytes.subarray(at, at + size));
      at += size;
    },
  });
  return Object.assign(stream, { pulled: () => Math.min(at, bytes.length) });
}

/** The request is left alive for its 413 to be sent, but nothing reads it any more. */
function expectUnpiped(stream: Readable): void {
  expect(stream.destroyed).toBe(false);
  expect(stream.readableFlowing).toBe(false);
}

const limitsWith = (over: Partial<EnvelopeLimits>) => ({ ...DEFAULT_ENVELOPE_LIMITS, ...over });

async function drain(stream: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += (chunk as Buffer).length;
  return n;
}

/** The EnvelopeError `work` rejects with; anything else (or resolving) fails the test. */
async function refusal(work: Promise<unknown>): Promise<EnvelopeError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw error;
  }
  throw new Error('expected an EnvelopeError, got a result');
}

/** A full collection, so that RSS shows what is held rather than garbage not yet collected. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** `total` bytes of zeros, gzipped without ever holding them: about 1000:1. */
/**
 * `total` bytes of zeros, gzipped as a run of gzip members (gunzip reads them as one stream):
 * one 8 MB member compressed once and repeated, so the bomb costs the test milliseconds.
 */
function gzipBomb(total: number): Promise<Buffer> {
  const member = gzipSync(Buffer.alloc(8 * 1024 * 1024));
  return Promise.resolve(
    Buffer.concat(Array<Buffer>(Math.ceil(total / (8 * 1024 * 1024))).fill(member)),
  );
}

describe('decodedBody', () => {
  it.each([
    ['gzip', gzipSync(ENVELOPE)],
    ['x-gzip', gzipSync(ENVELOPE)],
    ['deflate', deflateSync(ENVELOPE)],
    ['deflate', deflateRawSync(ENVELOPE)],
    ['br', brotliCompressSync(ENVELOPE)],
    ['identity', ENVELOPE],
    [undefined, ENVELOPE],
    [' GZIP ', gzipSync(ENVELOPE)],
  ] as const)('%s round-trips to the envelope', async (encoding, body) => {
    const env = await parseEnvelope(await decodedBody(countedStream(body, 5), encoding));
    expect(env.eventId).toBe('9ec79c33ec9942ab8353589fcb2e04dc');
    expect(env.items[0].event).toEqual({ message: 'boom ✓' });
    expect(env.size).toBe(ENVELOPE.length);
  });

  it('raw deflate of a one-byte and an empty body', async () => {
    const one = await decodedBody(countedStream(deflateRawSync(Buffer.from('{}')), 1), 'deflate');
    expect((await parseEnvelope(one)).items).toEqual([]);
    const empty = await decodedBody(countedStream(Buffer.alloc(0)), 'deflate');
    expect((await refusal(parseEnvelope(empty))).status).toBe(400);
  });

  it('an unknown encoding is a 415', async () => {
    const error = await refusal(decodedBody(countedStream(ENVELOPE), 'compress'));
    expect([error.status, error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it('a corrupt compressed body is a 400', async () => {
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const body = Buffer.concat([
        gzipSync(ENVELOPE).subarray(0, 12),
        Buffer.from('garbage!garbage!'),
      ]);
      const error = await refusal(parseEnvelope(await decodedBody(countedStream(body), encoding)));
      expect(error.status).toBe(400);
    }
  });

  it('the compressed limit counts the raw bytes', async () => {
    const body = Buffer.alloc(1024 * 1024, 'x');
    const stream = countedStream(body, 256);
    const decoded = await decodedBody(stream, undefined, limitsWith({ maxCompressedBytes: 1000 }));
    const error = await refusal(drain(decoded));
    expect([error.status, error.reason]).toEqual([413, 'body larger than the limit']);
    expectUnpiped(stream);
    expect(stream.pulled()).toBeLessThan(body.length);
  });

  it('a 400 MB gzip bomb is refused while streaming: 413, the request no longer read, memory flat', async () => {
    const bomb = await gzipBomb(400 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(800 * 1024);
    gc();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let sampledAt = 0;

    const stream = countedStream(bomb, 4096);
    const decoded = await decodedBody(stream, 'gzip');
    let out = 0;
    const error = await refusal(
      (async () => {
        for await (const chunk of decoded) {
          out += (chunk as Buffer).length;
          if (out - sampledAt > 8 * 1024 * 1024) {
            sampledAt = out;
            gc();
            peakRss = Math.max(peakRss, process.memoryUsage().rss);
          }
        }
      })(),
    );
    gc();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    expect([error.status, error.reason]).toEqual([413, 'envelope larger than the limit']);
    expectUnpiped(stream);
    expect(out).toBeLessThanOrEqual(DEFAULT_ENVELOPE_LIMITS.maxEnvelopeBytes);
    // 100 MB of output is past the limit at a quarter of the bomb (plus what the streams read
    // ahead, 16 KiB each); the rest is never read.
    expect(stream.pulled()).toBeLessThan(bomb.length / 2);
    const growth = (peakRss - before.rss) / 1024 / 1024;
    // Measured +0 to +8 MB (allocator noise); holding the output would be +100 MB.
    expect(growth).toBeLessThan(24);
  });

  it('a bomb through the parser stops at the first line it cannot finish, having pulled little', async () => {
    const bomb = await gzipBomb(200 * 1024 * 1024);
    const stream = countedStream(bomb, 1024);
    const error = await refusal(parseEnvelope(await decodedBody(stream, 'gzip')));
    expect(error.status).toBe(413);
    // The pipeline passes the parser's destroy back on its next close event.
    await new Promise((resolve) => setImmediate(resolve));
    expectUnpiped(stream);
    // What the streams buffer ahead (16 KiB each), not the 200 KB bomb.
    expect(stream.pulled()).toBeLessThan(bomb.length / 2);
  });
});
