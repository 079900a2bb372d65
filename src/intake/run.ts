// `news fetch`: every source read (a few at a time), each new entry written as a news item. What a
// run skips, and why, is reported: a story already present (same normalised URL), one written before
// and since removed by the editor, a near-duplicate of an existing headline, an entry the source's
// filters leave out. One source failing never stops the others.
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config, SourceConfig } from '../content/config-schema.ts';
import { loadNews } from '../content/news.ts';
import { NEWS_DIR, STATE_DIR } from '../content/paths.ts';
import { normaliseUrl } from '../content/url.ts';
import { HeadlineIndex } from '../compose/duplicates.ts';
import { lock } from '../files/lock.ts';
import type { IntakeStore, Arrival } from '../store/intake.ts';
import { rangesForSource } from './address-guard.ts';
import type { FeedEntry } from './feeds.ts';
import { FetchFailed, HttpClient } from './http.ts';
import type { Draft } from './items.ts';

export interface FetchRunOptions {
  root: string;
  config: Config;
  now: number;
  /** Only the source of this name. */
  source?: string;
  /** Entries published before this instant are left out. */
  since?: number;
  dryRun?: boolean;
  store: IntakeStore;
  client?: HttpClient;
  /** Stops the reading of sources (the scheduler's stop): those not yet read fail as "stopped". */
  signal?: AbortSignal;
}

export interface AddedItem {
  file: string;
  title: string;
  url: string;
  source: string;
  published: string;
}

export interface SkippedEntry {
  source: string;
  title: string;
  url?: string;
  reason: string;
}

export interface SourceOutcome {
  name: string;
  url: string;
  status: 'fetched' | 'unchanged' | 'failed';
  entries: number;
  error?: string;
}

/** What `news fetch --json` prints. */
export interface FetchReport {
  dryRun: boolean;
  added: AddedItem[];
  skipped: SkippedEntry[];
  sources: SourceOutcome[];
}

const ACCEPT_FEEDS = 'application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5';

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** "Almanac/0.1.0 (+https://example.org)": who is asking, and where to find out more. */
export function userAgent(config: Config): string {
  return `Almanac/${version} (+${config.baseUrl})`;
}

type Fetched = { source: SourceConfig; outcome: SourceOutcome; entries: FeedEntry[]; feedUrl: string; validators?: { etag?: string; lastModified?: string } };

export async function fetchNews(o: FetchRunOptions): Promise<FetchReport> {
  const sources = o.source === undefined ? o.config.sources : o.config.sources.filter((s) => s.name.toLowerCase() === o.source!.toLowerCase());
  const client = o.client ?? new HttpClient();
  let fetched: Fetched[];
  try {
    fetched = await inParallel(sources, o.config.intake.concurrency, (s) => fetchSource(s, o, client));
  } finally {
    if (!o.client) await client.close();
  }
  const report: FetchReport = { dryRun: o.dryRun === true, added: [], skipped: [], sources: fetched.map((f) => f.outcome) };
  // One run writes at a time (the scheduler's and an editor's, say): a second one, reading the news
  // there is while the first writes, would write the same stories again under "-2" names.
  const release = o.dryRun ? () => undefined : await writerLock(o.root);
  try {
    const unfinished = fetched.some((f) => f.entries.length > 0) ? await addEntries(fetched, o, report) : new Set<string>();
    if (!o.dryRun) {
      // A source cut off by maxNewPerSource keeps no validators: the next run reads it in full again.
      for (const f of fetched) {
        if (f.outcome.status === 'fetched' && f.validators && !unfinished.has(f.source.name)) o.store.saveValidators(f.source.name, f.source.url, f.validators, o.now);
      }
    }
  } finally {
    release();
  }
  return report;
}

async function writerLock(root: string): Promise<() => void> {
  const dir = path.join(root, STATE_DIR);
  mkdirSync(dir, { recursive: true });
  return lock(path.join(dir, 'news-fetch.lock'), NEWS_DIR);
}

async function fetchSource(source: SourceConfig, o: FetchRunOptions, client: HttpClient): Promise<Fetched> {
  const outcome: SourceOutcome = { name: source.name, url: source.url, status: 'failed', entries: 0 };
  const { intake } = o.config;
  try {
    const allowed = await rangesForSource(new URL(source.url), intake.allowPrivateSources);
    const known = o.store.validators(source.name, source.url);
    const res = await client.get(source.url, {
      timeoutMs: intake.timeoutSeconds * 1000,
      maxBytes: intake.maxFeedBytes,
      userAgent: userAgent(o.config),
      accept: ACCEPT_FEEDS,
      allowed,
      signal: o.signal,
      ...known,
    });
    if (res.status === 'not-modified') {
      outcome.status = 'unchanged';
      return { source, outcome, entries: [], feedUrl: res.url };
    }
    // The parsing libraries are loaded only once a feed has something new: a run of 304s needs none.
    const { parseFeedBytes } = await import('./feeds.ts');
    const { entries } = parseFeedBytes(res.body, res.contentType);
    outcome.status = 'fetched';
    outcome.entries = entries.length;
    return { source, outcome, entries, feedUrl: res.url, validators: { etag: res.etag, lastModified: res.lastModified } };
  } catch (err) {
    outcome.error = shownAsEscapes(err instanceof Error ? err.message : String(err));
    if (!(err instanceof FetchFailed) && !(err instanceof Error && err.name === 'NotAFeed') && process.env.ALMANAC_DEBUG && err instanceof Error) {
      process.stderr.write(`${err.stack}\n`);
    }
    return { source, outcome, entries: [], feedUrl: source.url };
  }
}

/**
 * An error may quote what the server sent (JSON.parse quotes the body): its control characters and
 * bidirectional overrides are written as escapes, so that it cannot recolour, clear or retitle the
 * terminal or the scheduler's log, nor forge a line of its own.
 */
function shownAsEscapes(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A known headline: whose, when, and in which file. */
interface Headline {
  file: string;
  source: string;
  published: number;
}

/**
 * Headlines this close in time, from another source, tell the same story. As when an issue merges
 * stories, a source's own similar headlines ("Weekly roundup #12", "#13") are different stories,
 * and so is the same headline months apart.
 */
const SAME_STORY_MS = 7 * 24 * 3600_000;

function sameStoryAs(d: Draft): (h: Headline) => boolean {
  return (h) => h.source !== d.source && Math.abs(h.published - d.published) <= SAME_STORY_MS;
}

/** What is already there: stories by normalised URL, and headlines, from the site's news files. */
async function existingNews(o: FetchRunOptions): Promise<{ stories: Map<string, string>; headlines: HeadlineIndex<Headline> }> {
  const { news } = await loadNews(o.root, o.config.timezone);
  const stories = new Map<string, string>();
  const headlines = new HeadlineIndex<Headline>();
  for (const item of news) {
    stories.set(item.storyKey, item.file);
    headlines.add(item.title, { file: item.file, source: item.source, published: item.published });
  }
  return { stories, headlines };
}

/** Writes the new entries; returns the sources with entries left for a later run. */
async function addEntries(fetched: Fetched[], o: FetchRunOptions, report: FetchReport): Promise<Set<string>> {
  const unfinished = new Set<string>();
  const [{ stories, headlines }, { compileRules, draftFile, draftPath, entryIdentity, entryToDraft }, { htmlToMarkdownMany, readerLink }, { freeName, writeNewFile }] = await Promise.all([
    existingNews(o),
    import('./items.ts'),
    import('./summary.ts'),
    import('./write.ts'),
  ]);
  const rules = compileRules(o.config);
  const write = { draftFile, draftPath, freeName, writeNewFile };
  const taken = new Set<string>();
  const folders = new Set<string>();
  const arrivals: Arrival[] = [];
  for (const f of fetched) {
    // A story already there is told apart by its link alone; the summaries of the others are
    // converted together.
    const fresh: { entry: FeedEntry; url: string }[] = [];
    for (const entry of f.entries) {
      const known = entryIdentity(entry, f.feedUrl);
      const there = known.url && stories.get(normaliseUrl(known.url));
      if (known.url && known.title && there) {
        report.skipped.push({ source: f.source.name, title: known.title, url: known.url, reason: `already present: ${there}` });
      } else if (known.url && known.title) {
        fresh.push({ entry, url: known.url });
      } else {
        fresh.push({ entry, url: '' });
      }
    }
    const summaries = htmlToMarkdownMany(fresh.map((e) => ({ html: e.url ? e.entry.html : '', base: e.url || undefined })), o.config.intake.summaryMaxChars);
    const limit = o.config.intake.maxNewPerSource;
    let added = 0;
    for (const [i, { entry }] of fresh.entries()) {
      if (added >= limit) {
        unfinished.add(f.source.name);
        const over = entryIdentity(entry, f.feedUrl);
        report.skipped.push({ source: f.source.name, title: over.title || '(untitled)', url: over.url, reason: `over the limit of ${limit} new items from one source in a run (intake.maxNewPerSource)` });
        continue;
      }
      const context = { source: f.source, feedUrl: f.feedUrl, rules, now: o.now, summaryMaxChars: o.config.intake.summaryMaxChars, timezone: o.config.timezone };
      const result = entryToDraft(entry, context, summaries[i]);
      if ('skip' in result) {
        report.skipped.push({ source: f.source.name, title: result.title, url: result.url, reason: result.skip });
        continue;
      }
      const d = result.draft;
      const skip = (reason: string) => report.skipped.push({ source: d.source, title: d.title, url: d.url, reason });
      // The link check refuses such a story's link, and one such item would stop the issue.
      if (!readerLink(new URL(d.url))) {
        skip('a link an email cannot carry (emails link only to https, and not to localhost or a private address)');
        continue;
      }
      if (o.since !== undefined && !d.undated && d.published < o.since) {
        skip('published before --since');
        continue;
      }
      const story = normaliseUrl(d.url);
      const present = stories.get(story);
      if (present) {
        skip(`already present: ${present}`);
        continue;
      }
      const before = o.store.arrival(story);
      if (before) {
        skip(existsSync(path.join(o.root, before.file)) ? `fetched before into ${before.file}` : `fetched before into ${before.file}, since removed`);
        continue;
      }
      const twin = headlines.sameStory(d.title, sameStoryAs(d));
      if (twin) {
        skip(`near-duplicate of the headline of ${twin.file} (${twin.source})`);
        continue;
      }
      const file = place(d, o, taken, folders, write);
      if (!file) {
        skip('a file of its name appeared while writing; run again');
        continue;
      }
      stories.set(story, file);
      headlines.add(d.title, { file, source: d.source, published: d.published });
      arrivals.push({ story, file, source: d.source, arrivedAt: o.now });
      report.added.push({ file, title: d.title, url: d.url, source: d.source, published: new Date(d.published).toISOString() });
      added++;
    }
  }
  if (!o.dryRun) o.store.recordArrivals(arrivals);
  return unfinished;
}

/** Chooses the draft's file and writes it (unless a dry run); undefined if the name was taken meanwhile. */
type Writers = Pick<typeof import('./items.ts'), 'draftFile' | 'draftPath'> & typeof import('./write.ts');

function place(d: Draft, o: FetchRunOptions, taken: Set<string>, folders: Set<string>, { draftFile, draftPath, freeName, writeNewFile }: Writers): string | undefined {
  const { dir, slug } = draftPath(d, o.config.timezone);
  const rel = freeName(o.root, dir, slug, taken);
  taken.add(rel);
  if (o.dryRun) return rel;
  return writeNewFile(o.root, rel, draftFile(d), folders) ? rel : undefined;
}

/** Runs `task` over `items`, at most `limit` at once; results in the order of `items`. */
async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
