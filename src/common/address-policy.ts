import * as ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';

/**
 * Blocks that public-looking classification misses: IPv4-compatible IPv6 (::/96, e.g. ::7f00:1 is 127.0.0.1) and the
 * local-use NAT64 prefix. Passed to the connect-time agent as well, so intake and delivery agree.
 */
export const EXTRA_DENIED_CIDRS = ['::/96', '64:ff9b:1::/48'];

const DENIED = EXTRA_DENIED_CIDRS.map((cidr) => ipaddr.parseCIDR(cidr));

/**
 * Whether an IP literal is an ordinary public unicast address. Loopback, private, link-local (cloud metadata),
 * CGNAT, multicast, unspecified, reserved and documentation ranges are not; nor is any IPv6 form that embeds one
 * of those (IPv4-mapped, NAT64, 6to4), nor Teredo.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') return ip.range() === 'unicast';
  const v6 = ip as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded && !isPublicAddress(embedded)) return false;
  if (DENIED.some(([range, bits]) => v6.match(range, bits))) return false;
  return v6.range() === 'unicast' || (embedded !== null && v6.range() === '6to4');
}

function embeddedIPv4(v6: ipaddr.IPv6): string | null {
  const p = v6.parts;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  if (p.slice(0, 6).every((part) => part === 0)) return v4(p[6], p[7]);
  if (p[0] === 0x64 && p[1] === 0xff9b) return v4(p[6], p[7]);
  if (p[0] === 0x2002) return v4(p[1], p[2]);
  return null;
}

/** Host names that always mean this machine, whatever DNS says. */
function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.localdomain';
}

/**
 * Why a URL's destination is refused, or null if it may be called. IP literals in any spelling the URL parser
 * accepts (127.1, 2130706433, 0x7f000001, [::ffff:7f00:1]…) arrive here normalised. Names are resolved, and refused
 * if any address is not public; a name that does not resolve now is left to the connect-time check.
 */
export async function refusedDestination(url: string, resolve = lookupAll): Promise<string | null> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(host)) return isPublicAddress(host) ? null : `${host} is not a public address`;
  if (isLocalName(host)) return `${host} is a local name`;
  const addresses = await resolve(host);
  const bad = addresses.find((address) => !isPublicAddress(address));
  return bad ? `${host} resolves to ${bad}, which is not a public address` : null;
}

async function lookupAll(host: string): Promise<string[]> {
  try {
    const results = await lookup(host, { all: true, verbatim: true });
    return results.map((result) => result.address);
  } catch {
    return [];
  }
}
