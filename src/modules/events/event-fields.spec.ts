import { describe, expect, it } from '@jest/globals';
import {
  asUuid,
  eventFields,
  eventLevel,
  eventMessage,
  eventTags,
  eventTimestamp,
  lastException,
} from './event-fields.js';
import { storable } from './event-json.js';

const RECEIVED = new Date('2026-11-30T12:00:00.000Z');
const EVENT_ID = '9ec79c33ec9942ab8353589fcb2e04dc';

describe('event fields', () => {
  it('reads event_id as a dashed uuid, else the envelope header, else a new one, once each', () => {
    expect(asUuid(EVENT_ID)).toBe('9ec79c33-ec99-42ab-8353-589fcb2e04dc');
    expect(asUuid('not-an-id')).toBeUndefined();
    const used = new Set<string>();
    const header = '11111111-1111-4111-8111-111111111111';
    expect(eventFields({ event_id: EVENT_ID }, header, RECEIVED, used).id).toBe(
      '9ec79c33-ec99-42ab-8353-589fcb2e04dc',
    );
    expect(eventFields({}, header, RECEIVED, used).id).toBe(header);
    const fresh = eventFields({}, header, RECEIVED, used).id;
    expect(fresh).not.toBe(header);
    expect(asUuid(fresh)).toBe(fresh);
  });

  it('takes timestamps in seconds or RFC 3339, else the received time', () => {
    expect(eventTimestamp(1764504000.5, RECEIVED).toISOString()).toBe('2025-11-30T12:00:00.500Z');
    expect(eventTimestamp('1764504000', RECEIVED).toISOString()).toBe('2025-11-30T12:00:00.000Z');
    expect(eventTimestamp('2026-01-02T03:04:05Z', RECEIVED).toISOString()).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    for (const bad of ['yesterday', null, {}, 1e20, -5, Number.NaN]) {
      expect(eventTimestamp(bad, RECEIVED)).toBe(RECEIVED);
    }
  });

  it("maps levels onto Sentry's, defaulting to error", () => {
    expect(eventLevel('WARNING')).toBe('warning');
    expect(eventLevel('warn')).toBe('warning');
    expect(eventLevel('critical')).toBe('fatal');
    expect(eventLevel(undefined)).toBe('error');
    expect(eventLevel('shouting')).toBe('error');
  });

  it('finds the message in message, message.formatted, logentry.formatted, logentry.message', () => {
    expect(eventMessage({ message: 'plain' })).toBe('plain');
    expect(eventMessage({ message: { formatted: 'f', message: 'm' } })).toBe('f');
    expect(
      eventMessage({ logentry: { formatted: 'user 42 failed', message: 'user %s failed' } }),
    ).toBe('user 42 failed');
    expect(eventMessage({ logentry: { message: 'template only' } })).toBe('template only');
    expect(eventMessage({ message: 7 })).toBeNull();
    expect(eventMessage({ message: 'x'.repeat(10_000) })?.length).toBe(8192);
  });

  it('takes the last exception of exception.values (or the older bare list)', () => {
    const values = [{ type: 'KeyError' }, { type: 'RuntimeError', value: 'wrapped' }];
    expect(lastException({ exception: { values } })?.type).toBe('RuntimeError');
    expect(lastException({ exception: values })?.type).toBe('RuntimeError');
    expect(lastException({ exception: { values: 'nope' } })).toBeUndefined();
  });

  it('reads tags as an object or as pairs, values as strings', () => {
    expect(eventTags({ a: 'x', b: 2, c: null })).toEqual({ a: 'x', b: '2' });
    expect(eventTags([['a', 'x'], ['b', true], ['bad'], 'junk'])).toEqual({ a: 'x', b: 'true' });
    expect(eventTags('junk')).toEqual({});
  });

  it('extracts every column, and storable replaces NULs and lone surrogates', () => {
    const fields = eventFields(
      {
        level: 'error',
        release: 'web@1.0',
        environment: 'production',
        platform: 'node',
        user: { id: 'u\u00001' },
        exception: { values: [{ type: 'TypeError', value: 'bad \uD800 thing' }] },
      },
      undefined,
      RECEIVED,
      new Set(),
    );
    expect(fields).toMatchObject({
      level: 'error',
      release: 'web@1.0',
      environment: 'production',
      platform: 'node',
      exceptionType: 'TypeError',
      title: 'TypeError: bad \uD800 thing',
      timestamp: RECEIVED,
    });
    const safe = storable(fields);
    expect(safe.exceptionValue).toBe('bad \uFFFD thing');
    expect(safe.user).toEqual({ id: 'u\uFFFD1' });
    expect(safe.timestamp).toBe(RECEIVED);
    expect(storable({ 'k\u0000': ['\uDC00ok'] })).toEqual({ 'k\uFFFD': ['\uFFFDok'] });
    expect(storable('pair \uD83D\uDE00 kept')).toBe('pair \uD83D\uDE00 kept');
  });
});
