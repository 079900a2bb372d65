/** URL-safe identity of a topic or heading: "Muse Spark" and "muse spark" are the same topic. */
export function slugify(text: string): string {
  // Topic names repeat on every page that lists them; the memo is bounded for long-running servers.
  let slug = known.get(text);
  if (slug === undefined) {
    if (known.size >= KNOWN_LIMIT) known.clear();
    known.set(text, (slug = toSlug(text)));
  }
  return slug;
}

const known = new Map<string, string>();
const KNOWN_LIMIT = 10_000;

function toSlug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Guide slugs name folders and URLs, so they are held to the slug form exactly. */
export function isSlug(text: string): boolean {
  return /^[a-z0-9]+(-[a-z0-9]+)*$/.test(text);
}
