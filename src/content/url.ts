// Two links to the same story should compare equal however they were pasted:
// scheme and host case, default ports, a trailing slash, fragments and tracking parameters don't matter.

const TRACKING = /^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|igshid|yclid|ref_src)$/i;

export function normaliseUrl(raw: string): string {
  // Parsed once and written out by hand: each URL setter re-serialises the whole URL, and a build
  // normalises ten thousand links. The parser already lowercases the host of http(s) links.
  const url = new URL(raw.trim());
  const user = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const host = url.port === '' || url.port === '80' || url.port === '443' ? url.hostname : url.host;
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') || '/' : url.pathname;
  let search = '';
  if (url.search) {
    const kept = [...url.searchParams].filter(([key]) => !TRACKING.test(key));
    kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    search = new URLSearchParams(kept).toString();
  }
  if (search) return `https://${user}${host}${path}?${search}`;
  return `https://${user}${host}${path}`.replace(/\/$/, '');
}
