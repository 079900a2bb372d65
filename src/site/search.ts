// The site's search index: one record per guide (its latest version) and per news story, built from
// the composed pages (no HTML is parsed back), indexed by Pagefind below `pagefind/` in the output.
// Pagefind cannot update an index in place, so the records are split into shards, each its own
// Pagefind index: the guides, and the news by the month a story was published in the site's time
// zone (whole years before the newest story's year, so that a site with years of news keeps a few
// dozen shards). Each shard is kept in the build cache under a hash of its own records: a rebuild
// indexes again only the shards whose records changed (a new story: its month; a guide edited: the
// guides), two shards at a time in two Pagefind processes.
//
// Pagefind matches a word that is in no page of an index by the longest word of that index that
// begins it ("fireworks" finds "gas-fired" through "fire"). Searched shard by shard, a shard without
// the word would answer with such near matches while another shard has the word itself. So one more
// index, `words`, holds one record per shard made of that shard's words: the browser searches it
// first, and then only the shards it names, which are exactly those where Pagefind matches the query
// with the words one index of the whole site would use (see templates/assets/search.js).
// The text of each guide is kept in the cache too, by the hash of its HTML, so only changed guides
// are reduced to text again.
//
// Here: the output's names and the search page. The records are made in search-records.ts (their
// text in search-text.ts), the indexes in search-index.ts.
import type { Page, PageContext } from './page-context.ts';

/** The folder below the output that holds the shards and their manifest. */
export const SEARCH_DIR = 'pagefind';
/** The guides' shard (the first). */
export const GUIDES_SHARD = 'guides';
/** The index of each shard's words, which also holds Pagefind's scripts: the browser searches it first. */
export const WORDS_INDEX = 'words';
/** The list of shards, in SEARCH_DIR: `{ "words": "words/", "shards": ["guides/", "news-2026-04/", …] }`. */
export const MANIFEST = 'shards.json';

/** The search page (`search/`): the header's form leads there, and its script shows the results. */
export function searchPage(ctx: PageContext): Page {
  const meta = ctx.meta('search/', {
    title: 'Search',
    description: `Search the guides and news of ${ctx.site.config.title}.`,
    section: 'none',
    noindex: true,
  });
  return ctx.page('search/', 'search', meta, {});
}
