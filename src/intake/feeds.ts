// A feed's bytes → its entries, whatever the format: RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed, read
// by feedsmith. The text is decoded first: a byte-order mark, then the charset the server names,
// then the XML declaration's encoding, else UTF-8 (iconv-lite knows the legacy ones).
import iconv from 'iconv-lite';
import { XMLValidator } from 'fast-xml-parser';
import { parseFeed } from 'feedsmith';

/** One entry as the feed gave it; every text is untrusted. */
export interface FeedEntry {
  /** The title as text (HTML titles already reduced to text by the caller's `titleText`). */
  title: string;
  /** Whether `title` is HTML (Atom type="html"/"xhtml", or RSS titles with markup in them). */
  titleIsHtml: boolean;
  link?: string;
  /** As written in the feed: RFC 822 (RSS) or ISO 8601 (Atom, JSON Feed, Dublin Core). */
  date?: string;
  /** The entry's HTML: its summary, or else its content. */
  html: string;
}

export type FeedFormat = 'rss' | 'atom' | 'rdf' | 'json';

/** Why a body is not a feed; its message completes "<source>: …". */
export class NotAFeed extends Error {
  override name = 'NotAFeed';
  readonly code = 'ENOTFEED';
}

export function parseFeedBytes(body: Buffer, contentType: string): { format: FeedFormat; entries: FeedEntry[] } {
  const text = decodeFeedText(body, contentType);
  const trimmed = text.trimStart();
  let input: string | object = text;
  if (trimmed.startsWith('{')) {
    try {
      input = JSON.parse(trimmed) as object;
    } catch (err) {
      throw new NotAFeed(`expected a JSON Feed, found JSON that does not parse (${err instanceof Error ? err.message : String(err)})`);
    }
  } else if (!trimmed.startsWith('<')) {
    throw new NotAFeed(`expected an RSS, Atom or JSON feed, found ${trimmed === '' ? 'an empty body' : 'text that is neither XML nor JSON'}`);
  } else if (looksLikeHtml(trimmed)) {
    throw new NotAFeed('expected an RSS, Atom or JSON feed, found an HTML page');
  } else {
    // feedsmith's parser reads broken XML leniently and would give part of a cut-off feed.
    const valid = XMLValidator.validate(trimmed);
    if (valid !== true) {
      throw new NotAFeed(`expected an RSS, Atom or JSON feed, found XML that is not well-formed (line ${valid.err.line}: ${valid.err.msg.replace(/\s+/g, ' ').slice(0, 120)})`);
    }
  }
  let parsed: { format: string; feed: unknown };
  try {
    parsed = parseFeed(input) as { format: string; feed: unknown };
  } catch (err) {
    const what = typeof input === 'string' ? 'XML that is not a feed' : 'JSON that is not a JSON Feed';
    throw new NotAFeed(`expected an RSS, Atom or JSON feed, found ${what} (${err instanceof Error ? err.message : String(err)})`);
  }
  const feed = parsed.feed as Loose;
  switch (parsed.format) {
    case 'rss':
    case 'rdf':
      return { format: parsed.format, entries: list(feed.items).map(rssEntry) };
    case 'atom':
      return { format: 'atom', entries: list(feed.entries).map(atomEntry) };
    case 'json':
      return { format: 'json', entries: list(feed.items).map(jsonEntry) };
    default:
      throw new NotAFeed(`expected an RSS, Atom or JSON feed, found the format "${parsed.format}"`);
  }
}

function looksLikeHtml(text: string): boolean {
  return /^(<!doctype html|<html)/i.test(text);
}

// feedsmith's types differ per format and namespace; entries are read through this loose shape and
// every value checked for its type where it is used.
type Loose = { [key: string]: unknown };

function list(v: unknown): Loose[] {
  return Array.isArray(v) ? v.filter((x): x is Loose => typeof x === 'object' && x !== null) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function obj(v: unknown): Loose {
  return typeof v === 'object' && v !== null ? (v as Loose) : {};
}

/** RSS and RDF titles are text by the specification, but feeds put entities and tags in them. */
function rssTitle(v: unknown): { title: string; titleIsHtml: boolean } {
  const title = str(v) ?? '';
  return { title, titleIsHtml: /<[a-z/!]|&(#\d+|#x[0-9a-f]+|[a-z]+\d*);/i.test(title) };
}

function rssEntry(item: Loose): FeedEntry {
  const guid = obj(item.guid);
  const permalink = guid.isPermaLink !== false ? str(guid.value) : undefined;
  return {
    ...rssTitle(item.title),
    link: str(item.link) ?? (permalink && /^https?:\/\//i.test(permalink) ? permalink : undefined) ?? str(obj(item.rdf).about),
    date: str(item.pubDate) ?? firstString(obj(item.dc).dates) ?? str(obj(item.dc).date),
    html: str(item.description) ?? str(obj(item.content).encoded) ?? '',
  };
}

function firstString(v: unknown): string | undefined {
  return Array.isArray(v) ? v.map(str).find((s) => s !== undefined) : str(v);
}

function atomText(v: unknown): { text: string; isHtml: boolean } {
  const t = obj(v);
  const value = str(t.value) ?? '';
  return { text: value, isHtml: t.type === 'html' || t.type === 'xhtml' };
}

function atomEntry(entry: Loose): FeedEntry {
  const title = atomText(entry.title);
  const links = list(entry.links);
  const alternate = links.find((l) => l.rel === undefined || l.rel === 'alternate') ?? links[0];
  const summary = atomText(entry.summary);
  const content = atomText(entry.content);
  const asHtml = (t: { text: string; isHtml: boolean }) => (t.isHtml ? t.text : escapeHtml(t.text));
  return {
    title: title.text,
    titleIsHtml: title.isHtml,
    link: str(alternate?.href),
    date: str(entry.published) ?? str(entry.updated) ?? firstString(obj(entry.dc).dates),
    html: summary.text ? asHtml(summary) : content.text ? asHtml(content) : '',
  };
}

function jsonEntry(item: Loose): FeedEntry {
  return {
    title: str(item.title) ?? '',
    titleIsHtml: false,
    link: str(item.url) ?? str(item.external_url),
    date: str(item.date_published) ?? str(item.date_modified),
    html: str(item.summary) !== undefined ? escapeHtml(item.summary as string) : (str(item.content_html) ?? (str(item.content_text) !== undefined ? escapeHtml(item.content_text as string) : '')),
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The feed's text: BOM, then the server's charset, then the XML declaration, else UTF-8. */
export function decodeFeedText(body: Buffer, contentType: string): string {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return body.subarray(3).toString('utf8');
  if (body[0] === 0xfe && body[1] === 0xff) return iconv.decode(body.subarray(2), 'utf16-be');
  if (body[0] === 0xff && body[1] === 0xfe) return iconv.decode(body.subarray(2), 'utf16-le');
  const declared = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType)?.[1] ?? /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i.exec(body.subarray(0, 200).toString('latin1'))?.[1];
  if (declared && iconv.encodingExists(declared) && !/^utf-?8$/i.test(declared)) return iconv.decode(body, declared);
  return body.toString('utf8');
}
