import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { SYNC_GZIP_MAX_BYTES, gzipCopy } from './gzip-copy.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('gzipCopy', () => {
  // Around SYNC_GZIP_MAX_BYTES: held and compressed at once, or streamed from the chunk that
  // passes it (with what was held before it).
  it.each([0, 1, 100, SYNC_GZIP_MAX_BYTES, SYNC_GZIP_MAX_BYTES + 1, 100_000, 5 * 1024 * 1024])(
    'passes %d bytes on unchanged and gzips the same bytes',
    async (size) => {
      const bytes = randomBytes(size);
      const chunks = [];
      for (let at = 0; at < bytes.length; at += 16_384)
        chunks.push(bytes.subarray(at, at + 16_384));
      const { body, gzipped } = gzipCopy(Readable.from(chunks));
      expect((await readAll(body)).equals(bytes)).toBe(true);
      expect(gunzipSync(await gzipped()).equals(bytes)).toBe(true);
    },
  );

  it.each([7, 100_000])(
    'rejects the copy when the body is destroyed before its end (a refused envelope), after %d bytes',
    async (size) => {
      const source = new Readable({ read() {} });
      const { body, gzipped } = gzipCopy(source);
      body.resume();
      source.push(randomBytes(size));
      await new Promise((resolve) => setImmediate(resolve));
      body.destroy(new Error('over a limit'));
      await expect(gzipped()).rejects.toThrow();
    },
  );

  it('rejects the copy when the source fails', async () => {
    const source = new Readable({ read() {} });
    const { body, gzipped } = gzipCopy(source);
    body.resume();
    source.destroy(new Error('client went away'));
    await expect(gzipped()).rejects.toThrow();
  });
});
