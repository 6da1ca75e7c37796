import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { DEFAULT_ENVELOPE_LIMITS, EnvelopeError, type EnvelopeLimits } from './envelope-errors.js';
import { parseEnvelope } from './envelope-parser.js';

const EVENT_ID = '9ec79c33ec9942ab8353589fcb2e04dc';

/** The bytes as a stream cut into `size`-byte chunks (every boundary case for small sizes). */
function streamOf(bytes: Buffer | string, size = 7): Readable {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let at = 0; at < buf.length; at += size) chunks.push(buf.subarray(at, at + size));
  return Readable.from(chunks);
}

const parse = (bytes: Buffer | string, limits?: Partial<EnvelopeLimits>, size?: number) =>
  parseEnvelope(streamOf(bytes, size), { ...DEFAULT_ENVELOPE_LIMITS, ...limits });

async function refusal(promise: Promise<unknown>): Promise<EnvelopeError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  return error as EnvelopeError;
}

const lines = (...parts: (string | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));

describe('parseEnvelope: what SDKs send', () => {
  it('an event without length, as @sentry/node sends it, with a trailing newline', async () => {
    const event = JSON.stringify({ event_id: EVENT_ID, message: 'héllo ✓', level: 'error' });
    const env = await parse(
      `{"event_id":"${EVENT_ID}","sent_at":"2026-11-30T20:00:00.000Z","sdk":{"name":"sentry.javascript.node","version":"8.0.0"}}\n{"type":"event"}\n${event}\n`,
    );
    expect(env.eventId).toBe(EVENT_ID);
    expect(env.items).toHaveLength(1);
    expect(env.items[0]).toMatchObject({ type: 'event', known: true });
    expect(env.items[0].event).toMatchObject({ message: 'héllo ✓', level: 'error' });
  });

  it('an event with a byte-exact length (multibyte UTF-8) and no final newline, as Python sends it', async () => {
    const event = JSON.stringify({ message: 'ünïcödé ✓ 🎉' });
    const env = await parse(
      `{"event_id":"${EVENT_ID}","dsn":"https://abc@example.com/1"}\n{"type":"event","length":${Buffer.byteLength(event)},"content_type":"application/json"}\n${event}`,
    );
    expect(env.dsn).toBe('https://abc@example.com/1');
    expect(env.items[0].event).toEqual({ message: 'ünïcödé ✓ 🎉' });
  });

  it('a binary attachment containing newlines, with length, between two items', async () => {
    const binary = Buffer.from([0x00, 0x0a, 0xff, 0x0d, 0x0a, 0x0a, 0x7b, 0xfe]);
    const env = await parse(
      lines(
        `{}\n{"type":"attachment","length":${binary.length},"filename":"core.bin","content_type":"application/octet-stream"}\n`,
        binary,
        `\n{"type":"session"}\n{"sid":"x","status":"ok"}\n`,
      ),
      {},
      3,
    );
    expect(env.items.map((i) => i.type)).toEqual(['attachment', 'session']);
    expect(env.items[0].payload.equals(binary)).toBe(true);
    expect(env.items[0].header.filename).toBe('core.bin');
    expect(env.items[1].payload.toString()).toBe('{"sid":"x","status":"ok"}');
  });

  it('the event id comes from the event when the header has none; no id at all is fine', async () => {
    const withId = await parse(`{}\n{"type":"event"}\n{"event_id":"${EVENT_ID.toUpperCase()}"}`);
    expect(withId.eventId).toBe(EVENT_ID);
    const dashed = await parse(`{"event_id":"9ec79c33-ec99-42ab-8353-589fcb2e04dc"}\n`);
    expect(dashed.eventId).toBe(EVENT_ID);
    const none = await parse('{}\n{"type":"client_report"}\n{"discarded_events":[]}\n');
    expect(none.eventId).toBeUndefined();
  });

  it('keeps unknown item types as raw items', async () => {
    const env = await parse(
      '{}\n{"type":"profile_chunk","length":3}\nabc\n{"type":"check_in"}\n{}',
    );
    expect(env.items.map((i) => [i.type, i.known, i.payload.toString()])).toEqual([
      ['profile_chunk', false, 'abc'],
      ['check_in', true, '{}'],
    ]);
  });

  it('tolerates blank lines between items and CRLF line endings', async () => {
    const env = await parse(
      '{"event_id":"' +
        EVENT_ID +
        '"}\r\n\r\n{"type":"event","length":2}\r\n{}\r\n\n{"type":"transaction"}\r\n{"type":"transaction"}\r\n',
    );
    expect(env.items.map((i) => i.type)).toEqual(['event', 'transaction']);
    expect(env.items[1].payload.toString()).toBe('{"type":"transaction"}');
  });

  it('accepts a header-only envelope, with or without newline, and empty payloads', async () => {
    expect((await parse('{}')).items).toEqual([]);
    expect((await parse('{}\n')).items).toEqual([]);
    const env = await parse('{}\n{"type":"attachment","length":0}\n\n{"type":"attachment"}\n');
    expect(env.items.map((i) => i.payload.length)).toEqual([0, 0]);
  });

  it('reports the decompressed size', async () => {
    const body = '{}\n{"type":"session"}\n{}\n';
    expect((await parse(body)).size).toBe(Buffer.byteLength(body));
  });
});

describe('parseEnvelope: malformed input is a 400 with a reason', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['an empty body', '', /empty envelope/],
    ['a header that is not JSON', '{"event_id":\n', /envelope header is not valid JSON/],
    ['a header that is not an object', '[1,2]\n', /envelope header is not a JSON object/],
    ['a null header', 'null\n', /not a JSON object/],
    ['an event_id that is not a UUID', '{"event_id":"nope"}\n', /event_id/],
    ['an item header that is not JSON', '{}\n{type:event}\n{}', /item header is not valid JSON/],
    ['an item header without type', '{}\n{"length":2}\n{}', /without a type/],
    ['a negative length', '{}\n{"type":"event","length":-1}\n', /non-negative integer/],
    ['a string length', '{}\n{"type":"event","length":"2"}\n{}', /non-negative integer/],
    ['a length past the end', '{}\n{"type":"attachment","length":10}\nabc', /past the end/],
    ['a length too short', '{}\n{"type":"attachment","length":2}\nabc\n', /no newline/],
    ['bad JSON in an event', '{}\n{"type":"event"}\n{"message":', /event item is not valid JSON/],
    ['an event that is not an object', '{}\n{"type":"event"}\n"text"\n', /not a JSON object/],
    ['bad JSON in a transaction', '{}\n{"type":"transaction","length":1}\n{', /transaction item/],
    ['an event item with no payload', '{}\n{"type":"event"}', /not valid JSON/],
  ];
  it.each(cases)('%s', async (_name, body, reason) => {
    const error = await refusal(parse(body));
    expect(error.status).toBe(400);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.reason).toMatch(reason);
  });

  it('a stream that fails is a 400, and is destroyed', async () => {
    const stream = new Readable({ read() {} });
    stream.push('{}\n');
    setImmediate(() => stream.destroy(new Error('socket hang up')));
    const error = await refusal(parseEnvelope(stream));
    expect(error.status).toBe(400);
    expect(stream.destroyed).toBe(true);
  });
});

describe('parseEnvelope: limits are 413, checked while reading', () => {
  it('more than maxItems items', async () => {
    const item = '{"type":"session"}\n{}\n';
    await expect(parse('{}\n' + item.repeat(100))).resolves.toMatchObject({
      items: { length: 100 },
    });
    const error = await refusal(parse('{}\n' + item.repeat(101)));
    expect([error.status, error.reason]).toEqual([413, 'more than 100 items']);
  });

  it('an event item over 1 MB, with and without length, before reading it all', async () => {
    const big = JSON.stringify({ message: 'x'.repeat(1024 * 1024) });
    const declared = await refusal(parse(`{}\n{"type":"event","length":${big.length}}\n`));
    expect([declared.status, declared.reason]).toEqual([413, 'event item larger than the limit']);
    const undeclared = await refusal(parse(`{}\n{"type":"event"}\n${big}\n`, {}, 64 * 1024));
    expect(undeclared.status).toBe(413);
    // The same size is fine for an attachment with a length, not for one without.
    const sized = `{}\n{"type":"attachment","length":${big.length}}\n${big}\n`;
    expect((await parse(sized, {}, 64 * 1024)).items[0].payload.length).toBe(big.length);
    const unsized = await refusal(parse(`{}\n{"type":"attachment"}\n${big}\n`, {}, 64 * 1024));
    expect([unsized.status, unsized.reason]).toEqual([413, 'item larger than the limit']);
  });

  it('a declared length the envelope limit cannot hold is refused before reading', async () => {
    const stream = streamOf(`{}\n{"type":"attachment","length":1000}\n` + 'x'.repeat(2000), 16);
    let pulled = 0;
    stream.on('data', (c: Buffer) => (pulled += c.length));
    const error = await refusal(
      parseEnvelope(stream, { ...DEFAULT_ENVELOPE_LIMITS, maxEnvelopeBytes: 500 }),
    );
    expect(error.status).toBe(413);
    expect(pulled).toBeLessThan(100);
  });

  it('an envelope over maxEnvelopeBytes, and a header line with no end', async () => {
    const body = '{}\n' + '{"type":"session"}\n{}\n'.repeat(50);
    expect((await refusal(parse(body, { maxEnvelopeBytes: 200 }))).status).toBe(413);
    const endless = await refusal(parse('{"a":"' + 'x'.repeat(100_000), {}, 4096));
    expect([endless.status, endless.reason]).toEqual([
      413,
      'envelope header larger than the limit',
    ]);
  });
});

describe('parseEnvelope: properties', () => {
  const chunkSize = fc.integer({ min: 1, max: 64 });

  it('any bytes give an envelope or an EnvelopeError, never anything else', async () => {
    const prefix = fc.constantFrom(
      '',
      '{}\n',
      '{}\n{"type":"event"}\n',
      '{}\n{"type":"attachment","length":3}\n',
    );
    await fc.assert(
      fc.asyncProperty(
        prefix,
        fc.uint8Array({ maxLength: 400 }),
        chunkSize,
        async (head, tail, size) => {
          const started = Date.now();
          const body = Buffer.concat([Buffer.from(head), Buffer.from(tail)]);
          const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxItems: 5, maxHeaderBytes: 128 };
          const outcome = await parseEnvelope(streamOf(body, size), limits).catch(
            (e: unknown) => e,
          );
          expect(
            outcome instanceof EnvelopeError ||
              Array.isArray((outcome as { items?: unknown }).items),
          ).toBe(true);
          expect(Date.now() - started).toBeLessThan(1000);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('serializing random envelopes and parsing them round-trips, however the bytes are cut', async () => {
    const itemArb = fc.oneof(
      fc.record({
        type: fc.constantFrom('event', 'transaction'),
        payload: fc
          .dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean()))
          .map((o) => Buffer.from(JSON.stringify(o))),
        withLength: fc.boolean(),
      }),
      fc.record({
        type: fc.constantFrom(
          'attachment',
          'session',
          'client_report',
          'check_in',
          'user_feedback',
          'replay_video',
          'x',
        ),
        payload: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        withLength: fc.constant(true),
      }),
      fc.record({
        type: fc.constantFrom('sessions', 'statsd'),
        payload: fc.string().map((s) => Buffer.from(s.replace(/[\r\n]/g, ''))),
        withLength: fc.constant(false),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(itemArb, { maxLength: 6 }),
        fc.boolean(),
        chunkSize,
        async (items, finalNewline, size) => {
          const parts: Buffer[] = [Buffer.from(`{"event_id":"${EVENT_ID}"}\n`)];
          items.forEach((item, i) => {
            const header = item.withLength
              ? { type: item.type, length: item.payload.length }
              : { type: item.type };
            parts.push(Buffer.from(JSON.stringify(header) + '\n'), item.payload);
            if (finalNewline || i < items.length - 1) parts.push(Buffer.from('\n'));
          });
          const env = await parse(Buffer.concat(parts), {}, size);
          expect(env.eventId).toBe(EVENT_ID);
          expect(env.items.map((i) => [i.type, i.payload.toString('hex')])).toEqual(
            items.map((i) => [i.type, i.payload.toString('hex')]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("parseEnvelope in 'scan' mode (the ingest path: checked, nothing kept)", () => {
  const scan = (bytes: Buffer | string, limits?: Partial<EnvelopeLimits>, size?: number) =>
    parseEnvelope(streamOf(bytes, size), { ...DEFAULT_ENVELOPE_LIMITS, ...limits }, 'scan');

  it('sees what full mode sees, without payloads, and keeps only the first event', async () => {
    const first = JSON.stringify({ event_id: EVENT_ID, message: 'first' });
    const second = JSON.stringify({ message: 'second' });
    const bytes = lines(
      '{"sent_at":"2026-11-30T20:00:00.000Z"}\n',
      `{"type":"event","length":${Buffer.byteLength(first)}}\n${first}\n`,
      '{"type":"attachment","length":5,"filename":"a.txt"}\nhello\n',
      `{"type":"event"}\n${second}\n`,
      '{"type":"something_new"}\nraw',
    );
    for (const size of [1, 3, 7, 64, 4096]) {
      const full = await parse(bytes, {}, size);
      const scanned = await scan(bytes, {}, size);
      expect(scanned.eventId).toBe(EVENT_ID);
      expect(scanned.size).toBe(full.size);
      expect(scanned.header).toEqual(full.header);
      expect(scanned.items.map((item) => [item.type, item.known, item.header])).toEqual(
        full.items.map((item) => [item.type, item.known, item.header]),
      );
      expect(scanned.items.every((item) => item.payload.length === 0)).toBe(true);
      expect(scanned.items.map((item) => item.event !== undefined)).toEqual([
        true,
        false,
        false,
        false,
      ]);
    }
  });

  it('refuses what full mode refuses: bad event JSON, a length past the end, over the limits', async () => {
    expect((await refusal(scan('{}\n{"type":"event"}\n{nope}\n'))).reason).toBe(
      'event item is not valid JSON',
    );
    expect((await refusal(scan('{}\n{"type":"attachment","length":50}\nshort\n'))).status).toBe(
      400,
    );
    expect(
      (await refusal(scan('{}\n{"type":"attachment","length":50}\n', { maxEnvelopeBytes: 40 })))
        .status,
    ).toBe(413);
  });

  it('skips a sized attachment as it streams past, holding none of it', async () => {
    const size = 64 * 1024 * 1024;
    let pushed = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const head = Buffer.from(`{}\n{"type":"attachment","length":${size}}\n`);
    const source = new Readable({
      read() {
        if (pushed === 0) this.push(head);
        if (pushed >= size) {
          this.push('\n');
          this.push(null);
          return;
        }
        this.push(chunk);
        pushed += chunk.length;
      },
    });
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 5);
    const env = await parseEnvelope(source, DEFAULT_ENVELOPE_LIMITS, 'scan');
    clearInterval(sampler);
    expect(env.items).toHaveLength(1);
    expect(env.size).toBe(head.length + size + 1);
    // Chunks in flight, not the 64 MB attachment.
    expect((peak - before) / 1024 / 1024).toBeLessThan(16);
  });
});
