import { type Readable, Transform, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';

export interface GzipCopy {
  /** The same bytes as the source, to be read by the parser. */
  body: Readable;
  /**
   * The gzip of every byte `body` passed on, once it has ended. Compressed on libuv's thread
   * pool as the bytes pass (never a synchronous zlib call on the event loop), so what is held
   * is the compressed copy. Rejects if `body` failed or was destroyed before its end.
   */
  gzipped: () => Promise<Buffer>;
}

/** A copy of `source`'s bytes, gzip-compressed, made while they are read. */
export function gzipCopy(source: Readable): GzipCopy {
  const gzip = createGzip();
  const parts: Buffer[] = [];
  gzip.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise<Buffer>((resolve, reject) => {
    gzip.once('end', () => resolve(Buffer.concat(parts)));
    gzip.once('error', reject);
    gzip.once('close', () => reject(new Error('envelope copy closed before its end')));
  });
  // Awaited only after a successful parse; a failed one leaves it rejected and unread.
  done.catch(() => undefined);
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      // Waits for the compressor when it is behind: its input buffer stays bounded.
      if (gzip.write(chunk)) callback(null, chunk);
      else gzip.once('drain', () => callback(null, chunk));
    },
    flush(callback) {
      gzip.end();
      callback();
    },
  });
  tee.once('close', () => {
    if (!gzip.writableEnded) gzip.destroy();
  });
  const body = pipeline(source, tee, () => undefined);
  return { body, gzipped: () => done };
}
