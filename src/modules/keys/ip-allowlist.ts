import { BlockList, isIP } from 'node:net';

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(
  value: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, ...rest] = value.trim().split('/');
  if (rest.length > 0) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix =
    prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * A key's `allowed_ips` compiled once when the key is cached. Empty means any address.
 * IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`, as dual-stack sockets report them) are
 * checked as the IPv4 address they are.
 */
export class IpAllowlist {
  private readonly list = new BlockList();
  readonly isOpen: boolean;

  constructor(cidrs: string[]) {
    this.isOpen = cidrs.length === 0;
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (parsed !== null) this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
  }

  allows(ip: string): boolean {
    if (this.isOpen) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const address = mapped?.[1] ?? ip;
    const version = isIP(address);
    if (version === 0) return false;
    return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
