import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Readable } from 'node:stream';
import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { brotliWindowBits, decodedBody } from './decoded-body.js';
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
    // br from a brotli start: read as brotli, gzip's first byte declares a 16 MB window (a 413).
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['br', brotliCompressSync],
      ['deflate', gzipSync],
    ] as const) {
      const body = Buffer.concat([
        compress(ENVELOPE).subarray(0, 12),
        Buffer.from('garbage!garbage!'),
      ]);
      const error = await refusal(parseEnvelope(await decodedBody(countedStream(body), encoding)));
      expect(error.status).toBe(400);
    }
  });

  describe('brotli windows', () => {
    /** `bytes` compressed with a window of 2^`lgwin` bytes (RFC 7932 WBITS). */
    const brotli = (bytes: Buffer, lgwin: number, largeWindow = false, quality = 11) =>
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_LGWIN]: lgwin,
          [constants.BROTLI_PARAM_LARGE_WINDOW]: largeWindow ? 1 : 0,
          [constants.BROTLI_PARAM_QUALITY]: quality,
        },
      });

    // RFC 7932 section 9.1's code, as printed there (read from the right: the lowest bit first).
    it.each([
      [10, '0100001'],
      [11, '0110001'],
      [12, '1000001'],
      [13, '1010001'],
      [14, '1100001'],
      [15, '1110001'],
      [16, '0'],
      [17, '0000001'],
      [18, '0011'],
      [19, '0101'],
      [20, '0111'],
      [21, '1001'],
      [22, '1011'],
      [23, '1101'],
      [24, '1111'],
    ])('WBITS %i is %s in the first byte, as the compressor writes it', (lgwin, pattern) => {
      const first = brotli(ENVELOPE, lgwin)[0];
      expect(first & ((1 << pattern.length) - 1)).toBe(parseInt(pattern, 2));
      expect(brotliWindowBits(first)).toBe(lgwin);
      // The bits past the code belong to the first meta-block: they do not change the answer.
      expect(brotliWindowBits(parseInt(pattern, 2) | ((0xff << pattern.length) & 0xff))).toBe(
        lgwin,
      );
    });

    it('the large-window marker (0010001, invalid by the RFC) decodes to no window', () => {
      expect(brotliWindowBits(0b0010001)).toBeUndefined();
      expect(brotliWindowBits(brotli(ENVELOPE, 26, true)[0])).toBeUndefined();
    });

    it.each([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])(
      'a window of 2^%i bytes is taken and round-trips, read a byte at a time',
      async (lgwin) => {
        const env = await parseEnvelope(
          await decodedBody(countedStream(brotli(ENVELOPE, lgwin), 1), 'br'),
        );
        expect(env.items[0].event).toEqual({ message: 'boom ✓' });
        expect(env.size).toBe(ENVELOPE.length);
      },
    );

    it.each([
      [23, 1],
      [23, 16 * 1024],
      [24, 1],
      [24, 16 * 1024],
    ])(
      'a window of 2^%i bytes (in %i-byte chunks) is a 413 before decoding, the request no longer read',
      async (lgwin, chunkSize) => {
        // 1 MB that does not compress: the refusal must come from the first byte, not the limits.
        const body = brotli(randomBytes(1024 * 1024), lgwin, false, 4);
        const stream = countedStream(body, chunkSize);
        const error = await refusal(decodedBody(stream, 'br'));
        expect([error.status, error.code, error.reason]).toEqual([
          413,
          'PAYLOAD_TOO_LARGE',
          'brotli window larger than 4 MB',
        ]);
        await new Promise((resolve) => setImmediate(resolve));
        expectUnpiped(stream);
        expect(stream.pulled()).toBeLessThan(body.length / 2);
      },
    );

    it('an empty body and a large-window stream go to the decoder: a 400', async () => {
      const empty = await decodedBody(countedStream(Buffer.alloc(0)), 'br');
      expect((await refusal(parseEnvelope(empty))).status).toBe(400);
      const large = await decodedBody(countedStream(brotli(ENVELOPE, 26, true), 1), 'br');
      expect((await refusal(parseEnvelope(large))).status).toBe(400);
    });
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
