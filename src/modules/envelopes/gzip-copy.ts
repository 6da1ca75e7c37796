import { type Readable, Transform, pipeline } from 'node:stream';
import { type Gzip, createGzip, gzipSync } from 'node:zlib';

export interface GzipCopy {
  /** The same bytes as the source, to be read by the parser. */
  body: Readable;
  /**
   * The gzip of every byte `body` passed on, once it has ended. Rejects if `body` failed or
   * was destroyed before its end.
   */
  gzipped: () => Promise<Buffer>;
}

/**
 * Bodies up to this size are held as they pass and compressed in one synchronous call once
 * the caller asks (tens of µs for an SDK's few KB, about 0.1 ms of CPU at this size). A zlib stream
 * on libuv's thread pool costs several times the CPU of the compression itself for such a
 * body (its setup and the hand-offs between threads: ~450 µs against ~60 µs for 6.6 KB,
 * measured with bench:envelopes' envelopes), and most envelopes are this small.
 */
export const SYNC_GZIP_MAX_BYTES = 32 * 1024;

/**
 * A copy of `source`'s bytes, gzip-compressed. Past SYNC_GZIP_MAX_BYTES it is compressed on
 * libuv's thread pool as the bytes pass (never a long synchronous zlib call on the event
 * loop), so what is held of a large body is its compressed copy.
 */
export function gzipCopy(source: Readable): GzipCopy {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let gzip: Gzip | undefined;
  let streamed: Promise<Buffer> | undefined;
  let isEnded = false;
  let markEnded = (): void => undefined;
  let markFailed = (_error: Error): void => undefined;
  const ended = new Promise<void>((resolve, reject) => {
    markEnded = resolve;
    markFailed = reject;
  });
  // Awaited only after a successful parse; a failed one leaves these rejected and unread.
  ended.catch(() => undefined);

  /** From here on the bytes go through a zlib stream; what was held goes in first. */
  const startStream = (): Gzip => {
    const stream = createGzip();
    const parts: Buffer[] = [];
    stream.on('data', (part: Buffer) => parts.push(part));
    streamed = new Promise<Buffer>((resolve, reject) => {
      stream.once('end', () => resolve(Buffer.concat(parts)));
      stream.once('error', reject);
      stream.once('close', () => reject(new Error('envelope copy closed before its end')));
    });
    streamed.catch(() => undefined);
    for (const part of held) stream.write(part);
    held = [];
    return stream;
  };

  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (gzip === undefined && heldBytes + chunk.length <= SYNC_GZIP_MAX_BYTES) {
        held.push(chunk);
        heldBytes += chunk.length;
        callback(null, chunk);
        return;
      }
      gzip ??= startStream();
      // Waits for the compressor when it is behind: its input buffer stays bounded.
      if (gzip.write(chunk)) callback(null, chunk);
      else gzip.once('drain', () => callback(null, chunk));
    },
    flush(callback) {
      isEnded = true;
      gzip?.end();
      markEnded();
      callback();
    },
  });
  tee.once('close', () => {
    if (isEnded) return;
    markFailed(new Error('envelope copy closed before its end'));
    gzip?.destroy();
    held = [];
  });
  const body = pipeline(source, tee, () => undefined);
  const gzipped = async (): Promise<Buffer> => {
    await ended;
    return streamed ?? gzipSync(Buffer.concat(held, heldBytes));
  };
  return { body, gzipped };
}
