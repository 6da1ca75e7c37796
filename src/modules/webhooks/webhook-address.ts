import { isIP } from 'node:net';

/**
 * What kind of network an IP address is on, for the webhook SSRF guard. `public` is the only
 * kind always allowed; `loopback` and `private` are allowed with WEBHOOK_ALLOW_PRIVATE_URLS;
 * every other kind is always refused (link-local and the cloud metadata addresses above all).
 */
export type AddressKind =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'ipv4-mapped'
  | 'reserved';

/** Kinds WEBHOOK_ALLOW_PRIVATE_URLS lets through; the rest stay refused whatever it says. */
export const PRIVATE_KINDS: ReadonlySet<AddressKind> = new Set(['loopback', 'private']);

interface Range {
  bits: 32 | 128;
  base: bigint;
  prefix: number;
  kind: AddressKind;
}

/** First match wins: the metadata addresses sit inside link-local and ULA ranges. */
const RANGES: [string, AddressKind][] = [
  ['169.254.169.254/32', 'metadata'],
  ['fd00:ec2::254/128', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['169.254.0.0/16', 'link-local'],
  ['192.0.0.0/24', 'reserved'],
  ['198.18.0.0/15', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  // 240/4 holds 255.255.255.255, the limited broadcast address.
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'ipv4-mapped'],
  // IPv4-compatible (deprecated), NAT64, 6to4 and Teredo: IPv4 addresses in IPv6 clothing.
  ['::/96', 'ipv4-mapped'],
  ['64:ff9b::/96', 'ipv4-mapped'],
  ['64:ff9b:1::/48', 'ipv4-mapped'],
  ['2002::/16', 'ipv4-mapped'],
  ['2001::/32', 'ipv4-mapped'],
  ['fc00::/7', 'private'],
  ['fec0::/10', 'private'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
  ['100::/64', 'reserved'],
];

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** An IPv6 address (as net.isIP accepts it, zone removed) as a 128-bit number. */
function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (embedded?.[1] !== undefined) {
    const v4 = ipv4ToBigInt(embedded[1]);
    text = `${text.slice(0, -embedded[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...Array<string>(tail === undefined ? 0 : missing).fill('0'),
    ...tailGroups,
  ];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const PARSED: Range[] = RANGES.map(([cidr, kind]) => {
  const [base = '', prefix = ''] = cidr.split('/');
  const bits = isIP(base) === 4 ? 32 : 128;
  return {
    bits,
    base: bits === 32 ? ipv4ToBigInt(base) : ipv6ToBigInt(base),
    prefix: Number(prefix),
    kind,
  };
});

/** The kind of an IP address literal (v4 dotted quad or v6, zone allowed); null if not one. */
export function addressKind(address: string): AddressKind | null {
  const unzoned = address.replace(/%.*$/, '');
  const family = isIP(unzoned);
  if (family === 0) return null;
  const bits = family === 4 ? 32 : 128;
  const value = family === 4 ? ipv4ToBigInt(unzoned) : ipv6ToBigInt(unzoned);
  for (const range of PARSED) {
    if (range.bits !== bits) continue;
    const shift = BigInt(bits - range.prefix);
    if (value >> shift === range.base >> shift) return range.kind;
  }
  return 'public';
}

/** Whether a delivery may connect to an address of this kind. */
export function isAllowedKind(kind: AddressKind, allowPrivate: boolean): boolean {
  return kind === 'public' || (allowPrivate && PRIVATE_KINDS.has(kind));
}
