import { EnvelopeError, malformed, tooLarge } from './envelope-errors.js';

const NEWLINE = 0x0a;

/**
 * Lines and exact byte runs read from an async stream of Buffers, holding only what has not
 * been taken yet. Chunks are kept in a list and joined once per take (never concatenated as
 * they arrive), and a newline search resumes where the last one stopped, so reading is linear
 * in the input. Every byte pulled counts against `maxBytes`.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  /** Offset of the first untaken byte in chunks[0]. */
  private head = 0;
  private buffered = 0;
  private ended = false;
  private total = 0;

  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly maxBytes: number,
  ) {}

  /** Bytes pulled from the source so far. */
  get bytesRead(): number {
    return this.total;
  }

  /** Bytes taken or skipped so far: the position in the input. */
  get position(): number {
    return this.total - this.buffered;
  }

  /** True when every byte has been taken and the source is done. */
  async atEnd(): Promise<boolean> {
    while (this.buffered === 0) if (!(await this.pull())) return true;
    return false;
  }

  /**
   * The bytes up to the next newline (which is consumed, not returned), or up to the end of
   * input; null when nothing is left. A line longer than `max` bytes rejects with `overLimit`
   * as soon as that many bytes are buffered without a newline.
   */
  async readLine(max: number, overLimit: () => EnvelopeError): Promise<Buffer | null> {
    let scanned = 0;
    for (;;) {
      const at = this.indexOfNewline(scanned);
      if (at >= 0) {
        if (at > max) throw overLimit();
        const line = this.take(at);
        this.skip(1);
        return line;
      }
      scanned = this.buffered;
      if (scanned > max) throw overLimit();
      if (!(await this.pull())) {
        return this.buffered === 0 ? null : this.take(this.buffered);
      }
    }
  }

  /** Exactly `length` bytes; a shorter input is a 400 (`length` past the end). */
  async readExact(length: number): Promise<Buffer> {
    while (this.buffered < length) {
      if (!(await this.pull())) throw malformed('item length past the end of the envelope');
    }
    return this.take(length);
  }

  /**
   * Consumes exactly `length` bytes without holding them (at most one chunk is buffered at a
   * time); a shorter input is a 400 (`length` past the end).
   */
  async skipExact(length: number): Promise<void> {
    let left = length;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.pull())) {
        throw malformed('item length past the end of the envelope');
      }
      const n = Math.min(this.buffered, left);
      this.skip(n);
      left -= n;
    }
  }

  /** Consumes one newline (LF or CRLF) if it comes next; true if there was one or input ended. */
  async skipNewline(): Promise<boolean> {
    if (await this.atEnd()) return true;
    if (this.peekByte(0) === NEWLINE) {
      this.skip(1);
      return true;
    }
    if (this.peekByte(0) === 0x0d) {
      while (this.buffered < 2) if (!(await this.pull())) return false;
      if (this.peekByte(1) === NEWLINE) {
        this.skip(2);
        return true;
      }
    }
    return false;
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const value = next.value;
    const chunk =
      typeof value === 'string'
        ? Buffer.from(value)
        : Buffer.isBuffer(value)
          ? value
          : value instanceof Uint8Array
            ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
            : null;
    if (chunk === null) throw malformed('the body is not a byte stream');
    this.total += chunk.length;
    if (this.total > this.maxBytes) throw tooLarge('envelope larger than the limit');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Position of the first newline at or after `from` (relative to the untaken bytes), or -1. */
  private indexOfNewline(from: number): number {
    let start = -this.head;
    for (const chunk of this.chunks) {
      const end = start + chunk.length;
      if (end > from) {
        const at = chunk.indexOf(NEWLINE, Math.max(from - start, 0));
        if (at >= 0) return start + at;
      }
      start = end;
    }
    return -1;
  }

  private peekByte(offset: number): number {
    let at = this.head + offset;
    for (const chunk of this.chunks) {
      if (at < chunk.length) return chunk[at];
      at -= chunk.length;
    }
    return -1;
  }

  private take(length: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && this.head + length <= first.length) {
      const out = first.subarray(this.head, this.head + length);
      this.skip(length);
      return out;
    }
    const parts: Buffer[] = [];
    let left = length;
    let head = this.head;
    for (const chunk of this.chunks) {
      if (left === 0) break;
      const piece = chunk.subarray(head, Math.min(chunk.length, head + left));
      parts.push(piece);
      left -= piece.length;
      head = 0;
    }
    this.skip(length);
    return Buffer.concat(parts, length);
  }

  private skip(length: number): void {
    this.buffered -= length;
    let left = length;
    while (left > 0) {
      const room = this.chunks[0].length - this.head;
      if (left < room) {
        this.head += left;
        return;
      }
      left -= room;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
