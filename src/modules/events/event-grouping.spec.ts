import { describe, expect, it } from '@jest/globals';
import { lastException } from './event-fields.js';
import { fingerprintHash, groupingOf } from './event-grouping.js';

const frame = (module: string, fn: string, inApp?: boolean, lineno = 1) => ({
  module,
  function: fn,
  in_app: inApp,
  lineno,
});

function group(event: Record<string, unknown>, message: string | null = null) {
  return groupingOf(event, lastException(event), message);
}

describe('grouping', () => {
  it('groups an exception by its type and top in-app frames, not line numbers or values', () => {
    const event = (value: string, lineno: number) => ({
      exception: {
        values: [
          {
            type: 'ZeroDivisionError',
            value,
            stacktrace: {
              frames: [
                frame('django.core', 'handle', false),
                frame('app.views', 'checkout', true, lineno),
                frame('app.billing', 'charge', true, lineno),
                frame('decimal', 'divide', false),
              ],
            },
          },
        ],
      },
    });
    const one = group(event('division by zero', 10));
    expect(one.fingerprint).toEqual([
      'ZeroDivisionError',
      'app.views:checkout',
      'app.billing:charge',
    ]);
    expect(one.title).toBe('ZeroDivisionError: division by zero');
    expect(group(event('other value', 99)).fingerprint).toEqual(one.fingerprint);
  });

  it('takes all frames when none is in-app, at most five nearest the crash', () => {
    const frames = Array.from({ length: 8 }, (_, i) => ({
      filename: `f${i}.js`,
      function: `fn${i}`,
    }));
    const grouping = group({ exception: { values: [{ type: 'Error', stacktrace: { frames } }] } });
    expect(grouping.fingerprint).toEqual([
      'Error',
      'f3.js:fn3',
      'f4.js:fn4',
      'f5.js:fn5',
      'f6.js:fn6',
      'f7.js:fn7',
    ]);
  });

  it('groups an exception without frames by type and value, a message by its template', () => {
    expect(group({ exception: { values: [{ type: 'E', value: 'v' }] } }).fingerprint).toEqual([
      'E',
      'v',
    ]);
    const logged = { logentry: { message: 'user %s failed', formatted: 'user 42 failed' } };
    expect(group(logged, 'user 42 failed')).toEqual({
      fingerprint: ['user %s failed'],
      title: 'user 42 failed',
    });
    expect(group({}, 'plain')).toEqual({ fingerprint: ['plain'], title: 'plain' });
    expect(group({}).fingerprint).toEqual(['(no message)']);
  });

  it("uses the SDK's fingerprint, expanding {{ default }}", () => {
    const event = { fingerprint: ['payments', '{{ default }}', 3], message: 'm' };
    expect(group(event, 'm').fingerprint).toEqual(['payments', 'm', '3']);
    expect(group({ fingerprint: ['{{default}}'] }, 'm').fingerprint).toEqual(['m']);
    expect(group({ fingerprint: [] }, 'm').fingerprint).toEqual(['m']);
  });

  it('hashes parts so that they never run together', () => {
    expect(fingerprintHash(['ab', 'c'])).not.toBe(fingerprintHash(['a', 'bc']));
    expect(fingerprintHash(['a'])).toMatch(/^[0-9a-f]{64}$/);
  });
});
