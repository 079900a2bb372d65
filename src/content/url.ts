// Two links to the same story should compare equal however they were pasted:
// scheme and host case, default ports, a trailing slash, fragments and tracking parameters don't matter.

const TRACKING = /^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|igshid|yclid|ref_src)$/i;

export function normaliseUrl(raw: string): string {
  const url = new URL(raw.trim());
  url.protocol = 'https:';
  url.hostname = url.hostname.toLowerCase();
  if (url.port === '80' || url.port === '443') url.port = '';
  url.hash = '';
  const kept = [...url.searchParams].filter(([key]) => !TRACKING.test(key));
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  url.search = new URLSearchParams(kept).toString();
  if (url.pathname.length > 1) url.pathname = url.pathname.replace(/\/+$/, '');
  return url.toString().replace(/\/$/, '');
}
