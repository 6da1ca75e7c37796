import { describe, expect, it } from '@jest/globals';
import { redactUrl, redactUrlCredentials } from './redact.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://gatehouse:s3cret@db:5432/gatehouse', 'postgres://gatehouse:***@db:5432/gatehouse'],
    ['redis://:s3cret@redis:6379', 'redis://:***@redis:6379'],
    ['rediss://default:p%40ss:w@cache.example.com', 'rediss://default:***@cache.example.com'],
    ['postgres://u:p@ss@host/db', 'postgres://u:***@host/db'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['postgres://postgres@127.0.0.1:5432/db', 'postgres://postgres@127.0.0.1:5432/db'],
  ])('%s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it('redacts every URL inside a text and leaves the rest', () => {
    expect(
      redactUrlCredentials(
        'no Redis answers at redis://:pw1@10.0.0.1:6379; db postgres://a:pw2@h/d, see http://x.example/a:b@c',
      ),
    ).toBe(
      'no Redis answers at redis://:***@10.0.0.1:6379; db postgres://a:***@h/d, see http://x.example/a:b@c',
    );
  });
});
