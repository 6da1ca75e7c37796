import { type LookupAddress, type LookupAllOptions, lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { type AddressKind, addressKind, isAllowedKind } from './webhook-address.js';

/**
 * The webhook SSRF guard, one pure module for both moments a URL is judged: when an endpoint
 * is saved (checkWebhookUrl: scheme, IP literal, every address its host resolves to) and when
 * a delivery connects (guardedLookup, the HTTP request's `lookup`, so an answer that changed
 * since the save, DNS rebinding, is judged again on the address actually dialled).
 *
 * The WHATWG URL parser has already turned decimal, octal and hex IPv4 forms
 * (`http://2130706433/`, `http://0177.0.0.1/`, `http://0x7f.1/`) into dotted quads and IPv6
 * literals into their canonical text, so one address classifier sees every spelling.
 */

/** Why a URL is refused; the message is shown to the client as is. */
export class WebhookUrlRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlRefused';
  }
}

export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

export const resolveAll: ResolveAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

function describe(kind: AddressKind): string {
  switch (kind) {
    case 'loopback':
      return 'a loopback address';
    case 'private':
      return 'a private network address';
    case 'link-local':
      return 'a link-local address';
    case 'metadata':
      return 'a cloud metadata address';
    case 'cgnat':
      return 'a carrier-grade NAT address (100.64.0.0/10)';
    case 'multicast':
      return 'a multicast address';
    case 'unspecified':
      return 'an unspecified address';
    case 'ipv4-mapped':
      return 'an IPv4 address embedded in IPv6';
    case 'reserved':
      return 'a reserved address';
    case 'public':
      return 'a public address';
  }
}

/** Throws WebhookUrlRefused unless `address` (an IP literal) may be connected to. */
export function checkAddress(address: string, allowPrivate: boolean, host = address): void {
  const kind = addressKind(address) ?? 'reserved';
  if (isAllowedKind(kind, allowPrivate)) return;
  const hint =
    kind === 'loopback' || kind === 'private'
      ? ' (allowed only when the server sets WEBHOOK_ALLOW_PRIVATE_URLS)'
      : '';
  const via = host === address ? '' : ` (${host} resolves to ${address})`;
  throw new WebhookUrlRefused(`url points to ${describe(kind)}${via}${hint}`);
}

/** An IPv6 literal as URL.hostname gives it is bracketed. */
function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

/**
 * What can be judged without DNS: an absolute http(s) URL, and when its host is an IP literal,
 * that address. Returns the parsed URL and its host (unbracketed); `resolved` is false when the
 * host is a name still to be resolved (checkWebhookUrl, or guardedLookup when connecting).
 */
export function parseWebhookUrl(
  raw: string,
  allowPrivate: boolean,
): { url: URL; host: string; resolved: boolean } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlRefused('url must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlRefused(`url must use http or https, not ${url.protocol.slice(0, 20)}`);
  }
  const host = bareHost(url.hostname);
  if (host === '') throw new WebhookUrlRefused('url must name a host');
  const isLiteral = addressKind(host) !== null;
  if (isLiteral) checkAddress(host, allowPrivate);
  return { url, host, resolved: isLiteral };
}

/**
 * Judges a webhook URL when it is saved: parseWebhookUrl, then every address its host
 * resolves to must be allowed. Returns the normalized URL.
 */
export async function checkWebhookUrl(
  raw: string,
  allowPrivate: boolean,
  resolve: ResolveAll = resolveAll,
): Promise<string> {
  const { url, host, resolved } = parseWebhookUrl(raw, allowPrivate);
  if (resolved) return url.href;
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new WebhookUrlRefused(`url's host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw new WebhookUrlRefused(`url's host ${host} does not resolve`);
  for (const { address } of addresses) checkAddress(address, allowPrivate, host);
  return url.href;
}

/**
 * A `lookup` for http.request / net.connect that refuses the connection when any address the
 * host resolves to is not allowed (checked on what is dialled, not on what was saved).
 */
export function guardedLookup(
  allowPrivate: boolean,
  resolve: ResolveAll = resolveAll,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        try {
          if (addresses.length === 0) throw new WebhookUrlRefused(`${hostname} does not resolve`);
          for (const { address } of addresses) checkAddress(address, allowPrivate, hostname);
        } catch (error) {
          callback(error as NodeJS.ErrnoException, '', 4);
          return;
        }
        const family = (options as Partial<LookupAllOptions> & { family?: number }).family;
        const usable = addresses.filter(
          (entry) => family === undefined || family === 0 || entry.family === family,
        );
        if ((options as Partial<LookupAllOptions>).all === true) {
          (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, usable);
          return;
        }
        const first = usable[0] ?? addresses[0];
        callback(null, first?.address ?? '', first?.family ?? 4);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 4),
    );
  };
}
