import { createHash } from 'node:crypto';

/**
 * URL-safe identity of a topic or heading: "Muse Spark" and "muse spark" are the same topic. Symbols
 * that tell names apart are spelled out ("C++" is c-plus-plus, "C#" c-sharp), and a name with no
 * Latin letters or digits at all gets a short hash of itself rather than an empty slug.
 */
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
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/\+/g, ' plus ')
    .replace(/#/g, ' sharp ')
    .replace(/@/g, ' at ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug || !topicKey(text)) return slug;
  return `t-${createHash('sha256').update(topicKey(text)).digest('hex').slice(0, 10)}`;
}

/** Names that are the same topic: they differ only in case, width, spaces, hyphens or underscores. */
export function topicKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[\s_-]+/g, ' ').trim();
}

/** Guide slugs name folders and URLs, so they are held to the slug form exactly. */
export function isSlug(text: string): boolean {
  return /^[a-z0-9]+(-[a-z0-9]+)*$/.test(text);
}
