import { describe, expect, it } from '@jest/globals';
import { IpAllowlist, parseCidr } from './ip-allowlist.js';

describe('parseCidr', () => {
  it.each([
    '10.0.0.0/8',
    '203.0.113.7',
    '203.0.113.7/32',
    '0.0.0.0/0',
    '2001:db8::/32',
    '::1',
    '::/0',
  ])('accepts %s', (cidr) => {
    expect(parseCidr(cidr)).not.toBeNull();
  });

  it.each([
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0/8',
    'example.com',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '10.0.0.0/x',
    '',
  ])('rejects %j', (cidr) => {
    expect(parseCidr(cidr)).toBeNull();
  });
});

describe('IpAllowlist', () => {
  it('allows anything when empty', () => {
    expect(new IpAllowlist([]).allows('198.51.100.1')).toBe(true);
  });

  it('matches IPv4 ranges, IPv6 ranges and IPv4-mapped addresses', () => {
    const list = new IpAllowlist(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32']);
    expect(list.allows('10.255.0.1')).toBe(true);
    expect(list.allows('11.0.0.1')).toBe(false);
    expect(list.allows('203.0.113.7')).toBe(true);
    expect(list.allows('203.0.113.8')).toBe(false);
    expect(list.allows('::ffff:10.1.2.3')).toBe(true);
    expect(list.allows('2001:db8:1::5')).toBe(true);
    expect(list.allows('2001:db9::5')).toBe(false);
    expect(list.allows('not an ip')).toBe(false);
  });
});
