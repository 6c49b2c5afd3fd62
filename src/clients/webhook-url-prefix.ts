/**
 * Whether a webhook URL lies under one of a client's prefixes, compared as parsed URLs: the same scheme, host and
 * port, then the path on a segment boundary. `https://lms.example.edu/hooks/` covers `https://lms.example.edu/hooks/a`
 * but not `https://lms.example.edu.evil.test/hooks/`, `https://lms.example.edu/hooks-evil` or
 * `https://localhost/hooks/`; `https://lms.example.edu/hooks` (no trailing slash) covers `/hooks` itself and below.
 */
export function underPrefix(url: string, prefix: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(prefix);
  } catch {
    return false;
  }
  if (target.protocol !== base.protocol || target.host !== base.host) return false;
  if (target.username !== '' || target.password !== '') return false;
  const path = base.pathname;
  if (path.endsWith('/')) return target.pathname.startsWith(path);
  return target.pathname === path || target.pathname.startsWith(`${path}/`);
}

export const MAX_WEBHOOK_URL_PREFIXES = 20;

/** Why a prefix cannot be stored, or null: an absolute http(s) URL with no credentials, query or fragment. */
export function prefixProblem(prefix: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(prefix);
  } catch {
    return `${JSON.stringify(prefix.slice(0, 80))} is not an absolute URL`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `${parsed.protocol} is not http or https`;
  if (parsed.username || parsed.password) return 'a prefix may not hold credentials';
  if (parsed.search || parsed.hash || prefix.includes('?') || prefix.includes('#'))
    return 'a prefix may not hold a query or fragment';
  return null;
}

/** The stored form: the URL as the parser writes it (lower-case host, default port dropped). */
export function normalizedPrefix(prefix: string): string {
  return new URL(prefix).toString();
}
