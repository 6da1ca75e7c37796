import { describe, expect, it } from '@jest/globals';
import { SealedRecords } from './sealed-record.js';

const secret = 'a'.repeat(40);

describe('SealedRecords', () => {
  it('round-trips, and the sealed form does not contain the plaintext', () => {
    const records = new SealedRecords(secret, 'test');
    const sealed = records.seal('{"key":"sk_live_secret"}', 'idempotency:1');
    expect(sealed).not.toContain('sk_live');
    expect(records.open(sealed, 'idempotency:1')).toBe('{"key":"sk_live_secret"}');
    // A fresh IV each time.
    expect(records.seal('x', 'c')).not.toBe(records.seal('x', 'c'));
  });

  it('opens nothing under another context, purpose or secret, or once tampered with', () => {
    const records = new SealedRecords(secret, 'test');
    const sealed = records.seal('hello', 'idempotency:1');
    expect(records.open(sealed, 'idempotency:2')).toBeNull();
    expect(new SealedRecords(secret, 'other').open(sealed, 'idempotency:1')).toBeNull();
    expect(new SealedRecords('b'.repeat(40), 'test').open(sealed, 'idempotency:1')).toBeNull();
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(records.open(`v1.${bytes.toString('base64')}`, 'idempotency:1')).toBeNull();
    expect(records.open('{"state":"done"}', 'idempotency:1')).toBeNull();
  });
});
