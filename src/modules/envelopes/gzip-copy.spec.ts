import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { gzipCopy } from './gzip-copy.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('gzipCopy', () => {
  it.each([0, 1, 100, 5 * 1024 * 1024])(
    'passes %d bytes on unchanged and gzips the same bytes',
    async (size) => {
      const bytes = randomBytes(size);
      const chunks = [];
      for (let at = 0; at < bytes.length; at += 65_536)
        chunks.push(bytes.subarray(at, at + 65_536));
      const { body, gzipped } = gzipCopy(Readable.from(chunks));
      expect((await readAll(body)).equals(bytes)).toBe(true);
      expect(gunzipSync(await gzipped()).equals(bytes)).toBe(true);
    },
  );

  it('rejects the copy when the body is destroyed before its end (a refused envelope)', async () => {
    const source = new Readable({ read() {} });
    const { body, gzipped } = gzipCopy(source);
    source.push(Buffer.from('partial'));
    body.destroy(new Error('over a limit'));
    await expect(gzipped()).rejects.toThrow();
  });

  it('rejects the copy when the source fails', async () => {
    const source = new Readable({ read() {} });
    const { body, gzipped } = gzipCopy(source);
    body.resume();
    source.destroy(new Error('client went away'));
    await expect(gzipped()).rejects.toThrow();
  });
});
