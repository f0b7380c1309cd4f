import { BlockList, isIP } from 'node:net';
import { invalid, missing, targetNotAllowed } from './errors.js';
import { maxUrlLength } from './webhook.js';

// Addresses a webhook may never reach unless the operator allows private
// targets: loopback, private, link-local (and so cloud metadata), shared,
// multicast, reserved and documentation ranges.
const nonPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit words of an IPv6 address (a zone such as `%eth0` left off). */
function ipv6Words(address: string): number[] {
  // The WHATWG URL parser writes every IPv6 spelling (embedded dotted quads included) in one canonical hex form.
  const canonical = new URL(`http://[${address.replace(/%.*$/, '')}]/`).hostname.slice(1, -1);
  const words = (part: string) => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  if (!canonical.includes('::')) return words(canonical);
  const [head, tail] = canonical.split('::') as [string, string];
  const front = words(head);
  const back = words(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

const ipv4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 addresses an IPv6 address carries inside: IPv4-compatible
 * (`::a.b.c.d`), IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated
 * (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`), 6to4 (`2002:aabb:ccdd::`)
 * and Teredo (`2001:0:…`, server and client). A packet to such an address may
 * end up at the IPv4 address, so that one must be public too.
 */
function embeddedIpv4(address: string): string[] {
  const w = ipv6Words(address);
  const zero = (from: number, to: number) => w.slice(from, to).every((word) => word === 0);
  if (zero(0, 6)) return [ipv4Of(w[6]!, w[7]!)];
  if (zero(0, 5) && w[5] === 0xffff) return [ipv4Of(w[6]!, w[7]!)];
  if (zero(0, 4) && w[4] === 0xffff && w[5] === 0) return [ipv4Of(w[6]!, w[7]!)];
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return [ipv4Of(w[6]!, w[7]!)];
  if (w[0] === 0x2002) return [ipv4Of(w[1]!, w[2]!)];
  if (w[0] === 0x2001 && w[1] === 0) return [ipv4Of(w[2]!, w[3]!), ipv4Of(~w[6]! & 0xffff, ~w[7]! & 0xffff)];
  return [];
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner.length > 0) return inner.every(isPublicAddress);
    return !nonPublic.check(address.replace(/%.*$/, ''), 'ipv6');
  }
  return false;
}

/** An IP literal that is not public; a host name is judged by what it resolves to. */
export function isNonPublicLiteral(host: string): boolean {
  return isIP(host) !== 0 && !isPublicAddress(host);
}

/** The host as the resolver and the address check expect it: IPv6 without brackets. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * The URL's syntax alone, what can be checked before the caller's password:
 * error 2 when missing, 3 when malformed (not absolute, no host, too long).
 */
export function readTargetUrl(raw: string | undefined): URL {
  if (raw === undefined || raw.trim() === '') throw missing('url');
  if (raw.length > maxUrlLength) throw invalid('url', `is longer than ${maxUrlLength} characters`);
  // The URL parser would drop or encode these, so the request would go elsewhere than the URL stored and shown.
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(raw)) throw invalid('url', 'must not contain spaces, line breaks or control characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url', 'is not an absolute URL: start it with https:// (or http://)');
  }
  // Another scheme is a target that is not allowed (5), told by parseTargetUrl.
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname === '') throw invalid('url', 'has no host');
  return url;
}

/**
 * Checks what can be checked without the network: the syntax (2, 3), then the
 * scheme, user-info and an IP-literal host (5: well-formed, but not allowed).
 */
export function parseTargetUrl(raw: string | undefined, allowPrivateTargets: boolean): URL {
  const url = readTargetUrl(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw targetNotAllowed('only http and https URLs are allowed');
  if (url.username !== '' || url.password !== '') throw targetNotAllowed('user names and passwords in the URL are not allowed');
  const host = bareHost(url);
  if (!allowPrivateTargets && isNonPublicLiteral(host)) {
    throw targetNotAllowed('the host is a private, local or reserved address');
  }
  return url;
}

/** After DNS: every address the host resolves to must be public. */
export function checkResolvedAddresses(addresses: string[], allowPrivateTargets: boolean): void {
  if (addresses.length === 0) throw targetNotAllowed('the host does not resolve');
  if (allowPrivateTargets) return;
  if (!addresses.every(isPublicAddress)) throw targetNotAllowed('the host resolves to a private, local or reserved address');
}
