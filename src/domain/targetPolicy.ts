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
  ['::', 128], ['::1', 128], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address carries inside (mapped, compatible, NAT64), if any. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (match) return match[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex) {
    const high = parseInt(hex[1]!, 16);
    const low = parseInt(hex[2]!, 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return undefined;
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !nonPublic.check(address, 'ipv4');
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner !== undefined) return isPublicAddress(inner);
    return !nonPublic.check(address, 'ipv6');
  }
  return false;
}

/** The host as the resolver and the address check expect it: IPv6 without brackets. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Checks what can be checked without the network: syntax, length, scheme, no
 * user-info, and an IP-literal host. Error 3 for a malformed URL, 5 for one
 * that is well-formed but not allowed.
 */
export function parseTargetUrl(raw: string | undefined, allowPrivateTargets: boolean): URL {
  if (raw === undefined || raw.trim() === '') throw missing('url');
  if (raw.length > maxUrlLength) throw invalid('url', `is longer than ${maxUrlLength} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url', 'is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw targetNotAllowed('only http and https URLs are allowed');
  if (url.username !== '' || url.password !== '') throw targetNotAllowed('user names and passwords in the URL are not allowed');
  if (url.hostname === '') throw invalid('url', 'has no host');
  const host = bareHost(url);
  if (!allowPrivateTargets && isIP(host) !== 0 && !isPublicAddress(host)) {
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
