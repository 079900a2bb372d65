// `news add <url>`: one web page → a news item for the editor to finish, filled from the page's own
// metadata (Open Graph og:title, og:description, og:site_name, article:published_time; else its
// <title> and meta description). The page is read by sanitize-html's parser, which hands over each
// meta tag's attributes decoded; nothing of the page but those texts is kept.
import iconv from 'iconv-lite';
import sanitizeHtml from 'sanitize-html';
import type { Config } from '../content/config-schema.ts';
import { LIMITS } from '../content/fields.ts';
import { ContentError } from '../content/problems.ts';
import { normaliseUrl } from '../content/url.ts';
import { loadNews } from '../content/news.ts';
import type { IntakeStore } from '../store/intake.ts';
import { rangesForSource } from './address-guard.ts';
import { escapeHtml } from './feeds.ts';
import { HttpClient } from './http.ts';
import { compileRules, draftFile, draftPath, entryToDraft, type Draft } from './items.ts';
import { userAgent } from './run.ts';
import { oneLine, shorten } from './summary.ts';
import { freeName, writeNewFile } from './write.ts';

export interface PageMetadata {
  title?: string;
  description?: string;
  published?: string;
  siteName?: string;
}

const TEXT_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

/**
 * How much of a page is read for its metadata, which sits in its head. The HTML parser's work grows
 * with the square of the nesting depth: a page of megabytes of nested elements held it for minutes.
 */
const MAX_HEAD_CHARS = 500_000;

/** The page up to its <body> (a tag in the body is no metadata of the page), at most MAX_HEAD_CHARS. */
function headOf(html: string): string {
  const body = html.search(/<body[\s>]/i);
  const head = html.slice(0, Math.min(body === -1 ? html.length : body, MAX_HEAD_CHARS));
  const open = head.lastIndexOf('<');
  return head.length < html.length && open > head.lastIndexOf('>') ? head.slice(0, open) : head;
}

export function pageMetadata(html: string): PageMetadata {
  const meta = new Map<string, string>();
  let title = '';
  sanitizeHtml(headOf(html), {
    allowedTags: ['title', 'meta'],
    allowedAttributes: { meta: ['property', 'name', 'content'] },
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'svg'],
    transformTags: {
      meta: (tagName, attribs) => {
        const key = (attribs.property ?? attribs.name ?? '').trim().toLowerCase();
        if (key && attribs.content !== undefined && !meta.has(key)) meta.set(key, attribs.content);
        return { tagName, attribs };
      },
    },
    textFilter: (text, tagName) => {
      if (tagName === 'title') title += text.replace(/&(amp|lt|gt|quot);/g, (m) => TEXT_ENTITIES[m]!);
      return text;
    },
  });
  const first = (...keys: string[]) => keys.map((k) => meta.get(k)?.trim()).find((v) => v);
  return {
    title: first('og:title', 'twitter:title') ?? (title.trim() || undefined),
    description: first('og:description', 'description', 'twitter:description'),
    published: first('article:published_time', 'og:published_time', 'date', 'dc.date', 'pubdate'),
    siteName: first('og:site_name', 'application-name'),
  };
}

/** The page's text: the server's charset, else a <meta charset> near the top, else UTF-8. */
function decodePage(body: Buffer, contentType: string): string {
  const head = body.subarray(0, 4096).toString('latin1');
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType)?.[1] ?? /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1];
  if (charset && iconv.encodingExists(charset) && !/^utf-?8$/i.test(charset)) return iconv.decode(body, charset);
  return body.toString('utf8');
}

export interface AddPageOptions {
  root: string;
  config: Config;
  url: string;
  now: number;
  score?: number;
  store: IntakeStore;
  client?: HttpClient;
}

export interface AddedPage {
  file: string;
  title: string;
  url: string;
  source: string;
  published: string;
  /** Whether the page gave no date, and the item is dated now. */
  undated: boolean;
}

export async function addPage(o: AddPageOptions): Promise<AddedPage> {
  const given = o.url.trim();
  if (!/^https?:\/\//i.test(given) || !URL.canParse(given)) {
    throw new ContentError([{ file: 'news add', field: 'url', expected: 'an absolute http(s) URL', found: JSON.stringify(given.slice(0, 100)) }]);
  }
  const story = normaliseUrl(given);
  const { news } = await loadNews(o.root, o.config.timezone);
  const present = news.find((n) => n.storyKey === story);
  if (present) throw new ContentError([{ file: present.file, field: 'url', expected: 'a story not yet in the news', found: 'this story already' }]);

  const client = o.client ?? new HttpClient();
  let page: { body: Buffer; contentType: string };
  try {
    const res = await client.get(given, {
      timeoutMs: o.config.intake.timeoutSeconds * 1000,
      maxBytes: o.config.intake.maxFeedBytes,
      userAgent: userAgent(o.config),
      accept: 'text/html, application/xhtml+xml;q=0.9, */*;q=0.5',
      allowed: await rangesForSource(new URL(given), o.config.intake.allowPrivateSources),
    });
    if (res.status !== 'ok') throw new Error('an unexpected 304 answer');
    page = res;
  } catch (err) {
    throw new ContentError([{ file: 'news add', field: given, expected: 'a page that can be read', found: err instanceof Error ? err.message : String(err) }]);
  } finally {
    if (!o.client) await client.close();
  }
  const meta = pageMetadata(decodePage(page.body, page.contentType));
  const host = new URL(given).hostname.replace(/^www\./, '');
  // The page's words: no control characters (printed below, and the content reader refuses them),
  // and no half of a character where the name is cut.
  const siteName = shorten(oneLine(meta.siteName ?? ''), LIMITS.name) || host;
  const source = { name: siteName, url: given, topics: [], score: o.score ?? 5, include: [], exclude: [] };
  const result = entryToDraft(
    { title: meta.title ?? '', titleIsHtml: false, link: given, date: meta.published, html: meta.description ? escapeHtml(meta.description) : '' },
    { source, feedUrl: given, rules: compileRules(o.config), now: o.now, summaryMaxChars: o.config.intake.summaryMaxChars, timezone: o.config.timezone },
  );
  if ('skip' in result) {
    throw new ContentError([{ file: 'news add', field: given, expected: 'a page with a title (og:title or <title>)', found: result.skip }]);
  }
  const d: Draft = result.draft;
  const { dir, slug } = draftPath(d, o.config.timezone);
  const file = freeName(o.root, dir, slug, new Set());
  if (!writeNewFile(o.root, file, draftFile(d))) {
    throw new ContentError([{ file, expected: 'a free file name', found: 'a file created meanwhile; run again' }]);
  }
  o.store.recordArrivals([{ story, file, source: d.source, arrivedAt: o.now }]);
  return { file, title: d.title, url: d.url, source: d.source, published: new Date(d.published).toISOString(), undated: d.undated };
}
