import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from '@jest/globals';
import { addressKind } from './webhook-address.js';
import {
  type ResolveAll,
  WebhookUrlRefused,
  checkWebhookUrl,
  guardedLookup,
} from './webhook-url-guard.js';

/** A resolver answering from a table, never the network. */
function resolver(table: Record<string, string[]>): ResolveAll {
  return (hostname) => {
    const addresses = table[hostname];
    if (addresses === undefined) return Promise.reject(new Error(`ENOTFOUND ${hostname}`));
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
}

const dns = resolver({
  'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'localhost.example.com': ['127.0.0.1'],
  'intranet.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.215.14', '10.1.2.3'],
  'metadata.example.com': ['169.254.169.254'],
  'nothing.example.com': [],
});

const refused = (url: string, allowPrivate = false) =>
  expect(checkWebhookUrl(url, allowPrivate, dns)).rejects.toBeInstanceOf(WebhookUrlRefused);
const allowed = (url: string, allowPrivate = false) =>
  expect(checkWebhookUrl(url, allowPrivate, dns)).resolves.toEqual(new URL(url).href);

describe('addressKind', () => {
  it.each([
    ['93.184.215.14', 'public'],
    ['203.0.113.10', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'ipv4-mapped'],
    ['::ffff:7f00:1', 'ipv4-mapped'],
    ['::ffff:93.184.215.14', 'ipv4-mapped'],
    ['::127.0.0.1', 'ipv4-mapped'],
    ['64:ff9b::a00:1', 'ipv4-mapped'],
    ['2002:a00:1::1', 'ipv4-mapped'],
    ['example.com', null],
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
  });
});

describe('checkWebhookUrl', () => {
  it.each([
    'https://hooks.example.com/gatehouse',
    'http://hooks.example.com:8080/x?y=1',
    'https://93.184.215.14/hook',
    'https://[2606:4700::1111]/hook',
  ])('allows %s', (url) => allowed(url));

  it.each([
    // schemes
    'ftp://hooks.example.com/',
    'file:///etc/passwd',
    'gopher://hooks.example.com/',
    'javascript:alert(1)',
    'not a url',
    // IPv4 loopback in every spelling the URL parser turns into 127.0.0.1
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://0x7f000001/',
    'http://127.1/',
    'http://017700000001/',
    // private, link-local, metadata, CGNAT, multicast, unspecified, broadcast
    'http://10.0.0.1/',
    'http://012.0.0.1/',
    'http://192.168.0.1/',
    'http://172.16.5.4/',
    'http://169.254.169.254/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://2852039166/',
    'http://169.254.10.10/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://0.0.0.0/',
    'http://0/',
    'http://255.255.255.255/',
    // IPv6 forms
    'http://[::1]/',
    'http://[::]/',
    'http://[0:0:0:0:0:0:0:1]/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/',
    'http://[fc00::1]/',
    'http://[ff02::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:93.184.215.14]/',
    // hostnames: every address is judged
    'http://localhost.example.com/',
    'http://intranet.example.com/',
    'http://mixed.example.com/',
    'http://metadata.example.com/',
    'http://nothing.example.com/',
    'http://unknown.example.com/',
  ])('refuses %s', (url) => refused(url));

  it('allows loopback and private addresses only with WEBHOOK_ALLOW_PRIVATE_URLS', async () => {
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://2130706433/',
      'http://[::1]/',
      'http://10.0.0.1/',
      'http://[fd12::1]/',
      'http://localhost.example.com/',
      'http://intranet.example.com/',
    ]) {
      await allowed(url, true);
    }
  });

  it('refuses link-local, metadata, CGNAT and the rest even with WEBHOOK_ALLOW_PRIVATE_URLS', async () => {
    for (const url of [
      'http://169.254.169.254/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://169.254.1.1/',
      'http://100.64.0.1/',
      'http://224.0.0.1/',
      'http://0.0.0.0/',
      'http://[::ffff:127.0.0.1]/',
      'http://metadata.example.com/',
      'ftp://127.0.0.1/',
    ]) {
      await refused(url, true);
    }
  });

  it('says why, and how to allow what may be allowed', async () => {
    await expect(checkWebhookUrl('http://localhost.example.com/', false, dns)).rejects.toThrow(
      /loopback address \(localhost\.example\.com resolves to 127\.0\.0\.1\).*WEBHOOK_ALLOW_PRIVATE_URLS/,
    );
    await expect(checkWebhookUrl('http://169.254.169.254/', true, dns)).rejects.toThrow(
      'url points to a cloud metadata address',
    );
  });

  it('resolves real hostnames with the system resolver: localhost is 127.0.0.1, refused', async () => {
    await expect(checkWebhookUrl('http://localhost:9/', false)).rejects.toThrow(/loopback/);
    await expect(checkWebhookUrl('http://localhost:9/', true)).resolves.toBe('http://localhost:9/');
  });
});

describe('guardedLookup (at connect time)', () => {
  const lookup = (host: string, allowPrivate: boolean, all: boolean) =>
    new Promise<{ error: Error | null; result: unknown }>((resolve) => {
      guardedLookup(allowPrivate, dns)(host, { all }, (error, address) =>
        resolve({ error, result: address }),
      );
    });

  it('hands over every address of a public host', async () => {
    const { error, result } = await lookup('hooks.example.com', false, true);
    expect(error).toBeNull();
    expect((result as LookupAddress[]).map((entry) => entry.address)).toEqual([
      '93.184.215.14',
      '2606:2800:21f:cb07:6820:80da:af6b:8b2c',
    ]);
    expect(await lookup('hooks.example.com', false, false)).toEqual({
      error: null,
      result: '93.184.215.14',
    });
  });

  it('fails the connection when any address is refused (a rebinding answer)', async () => {
    for (const host of ['localhost.example.com', 'mixed.example.com', 'metadata.example.com']) {
      const { error } = await lookup(host, false, true);
      expect(error).toBeInstanceOf(WebhookUrlRefused);
    }
    expect((await lookup('metadata.example.com', true, false)).error).toBeInstanceOf(
      WebhookUrlRefused,
    );
    expect((await lookup('intranet.example.com', true, false)).error).toBeNull();
  });
});
