import { PassThrough, Readable, Transform, pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import {
  DEFAULT_ENVELOPE_LIMITS,
  EnvelopeError,
  bodyTooLarge,
  type EnvelopeLimits,
  tooLarge,
} from './envelope-errors.js';

/**
 * The request body decompressed as it streams in, for parseEnvelope. The raw bytes count
 * against `maxCompressedBytes` and the decompressed ones against `maxEnvelopeBytes`; the
 * chunk that passes a limit destroys the whole pipeline, so a decompression bomb is never
 * held: at most one zlib output chunk (16 KiB) past the limit exists at any time. `raw` itself
 * is only unpiped, never destroyed: an HTTP request destroyed would reset the connection
 * before its 413 is sent, so the caller answers and then drops the rest (lingerThenClose).
 * `deflate` is the zlib format by the RFC, but some clients send raw deflate: the first two
 * bytes tell which. A brotli body whose window is over 4 MB is refused before decoding (see
 * MAX_BROTLI_WINDOW_BITS). A corrupt body makes the returned stream fail,
 * which parseEnvelope reports as a 400.
 */
export async function decodedBody(
  raw: Readable,
  contentEncoding: string | undefined,
  limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS,
): Promise<Readable> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  let body = detached(raw);
  const compressed = byteLimit(limits.maxCompressedBytes, bodyTooLarge);
  // Uncompressed, the body is the envelope: one counter (the parser counts the envelope too).
  if (encoding === '' || encoding === 'identity') return pipeline(body, compressed, ignore);
  const decompressed = byteLimit(limits.maxEnvelopeBytes, () =>
    tooLarge('envelope larger than the limit'),
  );
  let inflater: Transform;
  if (encoding === 'gzip' || encoding === 'x-gzip') inflater = createGunzip();
  else if (encoding === 'br') {
    // The window is declared in the first 7 bits, so one byte (however the body is chunked)
    // decides; an empty body goes on to the decoder, which fails it (a 400).
    const { source, head } = await peek(body, 1);
    body = source;
    if (head.length > 0 && exceedsBrotliWindow(head[0])) {
      body.destroy();
      throw tooLarge('brotli window larger than 4 MB');
    }
    inflater = createBrotliDecompress();
  } else if (encoding === 'deflate') {
    const { source, head } = await peek(body, 2);
    body = source;
    inflater = isZlibHeader(head) ? createInflate() : createInflateRaw();
  } else {
    body.destroy();
    throw new EnvelopeError(415, `unsupported content encoding ${clipName(encoding)}`);
  }
  return pipeline(body, compressed, inflater, decompressed, ignore);
}

/** `raw` piped into a stream of its own, which the pipeline may destroy; raw's errors pass on. */
function detached(raw: Readable): Readable {
  const body = new PassThrough();
  const fail = (error: Error) => body.destroy(error);
  raw.on('error', fail);
  body.on('close', () => {
    raw.off('error', fail);
    raw.unpipe(body);
  });
  return raw.pipe(body);
}

/** Errors reach the reader of the last stream; pipeline's callback has nothing left to do. */
function ignore(): void {}

function byteLimit(max: number, refusal: () => EnvelopeError): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(refusal());
      else callback(null, chunk);
    },
  });
}

/** RFC 1950: compression method 8 in the low nibble, and the two bytes a multiple of 31. */
function isZlibHeader(head: Buffer): boolean {
  return head.length >= 2 && (head[0] & 0x0f) === 8 && ((head[0] << 8) | head[1]) % 31 === 0;
}

/**
 * The largest brotli window taken, as log2 (RFC 7932 WBITS: a window of 2^WBITS - 16 bytes).
 * The decoder holds a ring buffer as large as the window the stream declares, for as long as it
 * runs: 4 MB at 22, 16 MB at the format's largest, 24, which a bomb would declare. Libraries'
 * defaults are 22 (Node's zlib, Python's brotli, which Sentry's SDKs compress with), so what
 * real SDKs send is never refused.
 */
const MAX_BROTLI_WINDOW_BITS = 22;

/**
 * WBITS of a brotli stream from its first byte (RFC 7932 section 9.1: 1, 4 or 7 bits, read from
 * the lowest). Undefined for the pattern 0010001, invalid by the RFC: the large-window
 * extension's marker (windows up to 1 GB, in 14 bits), which Node's decoder does not enable
 * (BROTLI_DECODER_PARAM_LARGE_WINDOW), so such a stream fails to decode: a 400.
 */
export function brotliWindowBits(first: number): number | undefined {
  if ((first & 0b1) === 0) return 16;
  const short = (first >> 1) & 0b111;
  if (short !== 0) return 17 + short;
  const long = (first >> 4) & 0b111;
  if (long === 1) return undefined;
  return long === 0 ? 17 : 8 + long;
}

function exceedsBrotliWindow(first: number): boolean {
  const windowBits = brotliWindowBits(first);
  return windowBits !== undefined && windowBits > MAX_BROTLI_WINDOW_BITS;
}

/** The first `n` bytes of `raw` (fewer if it ends), and a stream that still yields them. */
async function peek(raw: Readable, n: number): Promise<{ source: Readable; head: Buffer }> {
  const parts: Buffer[] = [];
  let have = 0;
  while (have < n) {
    const chunk = raw.read() as Buffer | null;
    if (chunk !== null) {
      parts.push(Buffer.from(chunk));
      have += chunk.length;
      continue;
    }
    if (raw.readableEnded || raw.destroyed) break;
    await nextReadable(raw);
  }
  const head = Buffer.concat(parts);
  if (raw.errored) return { source: raw, head };
  if (raw.readableEnded || raw.destroyed) {
    raw.destroy();
    return { source: Readable.from(head.length > 0 ? [head] : []), head };
  }
  if (head.length > 0) raw.unshift(head);
  return { source: raw, head };
}

function nextReadable(raw: Readable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off('readable', done).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    raw.once('readable', done).once('end', done).once('error', done).once('close', done);
  });
}

function clipName(encoding: string): string {
  return JSON.stringify(encoding.slice(0, 40));
}
