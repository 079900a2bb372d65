// The typed model every later stage works from. Loading produces it; nothing after loading reads files.
import type { Config } from './config-schema.ts';
import type { GuideFrontMatter } from './guide-schema.ts';
import type { NewsFrontMatter } from './news-schema.ts';
import type { Figure } from './figures.ts';
import type { ManifestEntry } from './versions.ts';

export interface NewsItem extends Omit<NewsFrontMatter, 'published'> {
  /** Path below content/news without ".md", e.g. "2026-04/muse-spark-launch". */
  id: string;
  /** Path relative to the site root, for messages. */
  file: string;
  /** Publication instant, milliseconds since the epoch. */
  published: number;
  /** The URL with scheme, host case, trailing slash and tracking parameters normalised away. */
  storyKey: string;
  /** Markdown summary, untrusted. */
  summary: string;
  /**
   * The summary as HTML, rendered when the item is parsed for a build (see render-queue.ts) and kept
   * with it in the build cache, so a rebuild renders only the summaries of changed files.
   */
  summaryHtml?: string;
}

export interface GuideDoc {
  front: GuideFrontMatter;
  body: string;
  /** Its images, in order, each read and checked (absent or empty when it has none). */
  figures?: Figure[];
  /** The document's Markdown as HTML, rendered when a published version is parsed; kept in the build cache like a summary's. */
  rendered?: RenderedBody;
}

/** A guide document's Markdown as HTML: the body with its `##` sections, and the inline fields in order. */
export interface RenderedBody {
  html: string;
  sections: Section[];
  takeaways: string[];
  /** Each timeline entry's event. */
  timeline: string[];
  /** Each FAQ entry's answer. */
  faq: string[];
  /** The words of the body, takeaways and answers (see words/reading-time.ts), counted once with the HTML. */
  words: number;
  /**
   * Whether the guide's own HTML (raw tags in its Markdown) is in `html`, `takeaways` or `faq`:
   * without it every tag was written by the renderer, and the text can be read off the HTML without
   * parsing it (search).
   */
  rawHtml: boolean;
}

export interface Section {
  id: string;
  title: string;
}

export interface GuideVersion {
  version: number;
  /** Publish instant, milliseconds since the epoch. */
  published: number;
  note: string;
  /** Path relative to the site root. */
  file: string;
  doc: GuideDoc;
  /** The manifest line as stored, kept verbatim when the manifest is rewritten. */
  entry: ManifestEntry;
  /** The social card frozen with the version (a version with a figure has none), its path relative to the site root. */
  card?: { file: string; sha256: string };
}

export interface Guide {
  slug: string;
  /** The working copy's path relative to the site root. */
  file: string;
  /** The working copy as the editor last saved it. */
  working: GuideDoc;
  /**
   * SHA-256 of the working copy's exact bytes, to tell whether it differs from the latest version (as
   * the manifest records each version's). Publishing reads the text itself again; the build cache then
   * holds no second copy of every guide.
   */
  workingSha256: string;
  /** Published versions, oldest first. */
  versions: GuideVersion[];
}

export interface Site {
  root: string;
  config: Config;
  guides: Guide[];
  news: NewsItem[];
}
