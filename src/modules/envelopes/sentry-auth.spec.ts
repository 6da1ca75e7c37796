import { describe, expect, it } from '@jest/globals';
import { keyOfAuthHeader, keyOfDsn, keyOfQuery } from './sentry-auth.js';

const KEY = '5f0c8a3e9b1d4c7e8f2a6b3c9d0e1f2a';

describe('sentry auth', () => {
  it.each([
    [`Sentry sentry_key=${KEY}, sentry_version=7`, KEY],
    [
      `Sentry sentry_version=7, sentry_client=sentry.javascript.node/11.12.0, sentry_key=${KEY}`,
      KEY,
    ],
    [`Sentry sentry_key=${KEY},sentry_version=7,sentry_secret=s`, KEY],
    [`sentry_key=${KEY}`, KEY],
    [`SENTRY Sentry_Key = ${KEY} `, KEY],
    [`Sentry sentry_key="${KEY}"`, KEY],
    ['Sentry sentry_version=7', undefined],
    ['Sentry sentry_key=', undefined],
    [`Sentry sentry_key=${'a'.repeat(200)}`, undefined],
    ['', undefined],
  ])('reads the key of X-Sentry-Auth %j', (header, key) => {
    expect(keyOfAuthHeader(header)).toBe(key);
  });

  it('reads the query parameter, the first when sent twice', () => {
    expect(keyOfQuery({ sentry_key: KEY })).toBe(KEY);
    expect(keyOfQuery({ sentry_key: [KEY, 'other'] })).toBe(KEY);
    expect(keyOfQuery({})).toBeUndefined();
    expect(keyOfQuery(undefined)).toBeUndefined();
  });

  it.each([
    [`https://${KEY}@errors.example.com/42`, 42, KEY],
    [`http://${KEY}@localhost:3000/prefix/42`, 42, KEY],
    [`https://${KEY}:secret@errors.example.com/42/`, 42, KEY],
    [`https://${KEY}@errors.example.com/43`, 42, undefined],
    ['https://errors.example.com/42', 42, undefined],
    ['not a url', 42, undefined],
  ])('reads the key of the DSN %s for project %d', (dsn, projectId, key) => {
    expect(keyOfDsn(dsn, projectId)).toBe(key);
  });
});
