// One news file read and validated. Loaded by news.ts only when a file is not in the build cache:
// parsing needs the YAML, schema and date libraries, which a rebuild from the cache does without.
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseFrontMatter } from './frontmatter.ts';
import { NEWS_DIR } from './paths.ts';
import { LIMITS } from './fields.ts';
import { newsSchema } from './news-schema.ts';
import { validate } from './validate.ts';
import { decodeText } from './text.ts';
import { normaliseUrl } from './url.ts';
import { readListedFile } from '../files/walk.ts';
import { ContentError } from './problems.ts';
import type { NewsItem } from './model.ts';
import type { Problem } from './problems.ts';

/**
 * What one news file gives: the item, or the problems that keep it out. (A good item has no empty
 * list of problems: ten thousand of them are kept in the build cache.)
 */
export type NewsRead = { item: NewsItem; problems?: undefined } | { item?: undefined; problems: Problem[] };

/**
 * Reads and parses one news file. Synchronous: for thousands of small files that is several times
 * faster than a fan-out of promises through libuv's four-thread pool.
 */
export function readNewsItem(root: string, rel: string, timezone: string): NewsRead {
  let bytes: Buffer | undefined;
  try {
    bytes = readListedFile(root, `${NEWS_DIR}/${rel}`);
  } catch (err) {
    if (err instanceof ContentError) return { problems: [...err.problems] };
    throw err;
  }
  if (bytes === undefined) return { problems: [{ file: `${NEWS_DIR}/${rel}`, expected: 'a news item', found: 'a file removed while reading' }] };
  const decoded = decodeText(bytes, `${NEWS_DIR}/${rel}`);
  if (decoded.problem) return { problems: [decoded.problem] };
  return parseNewsItem(decoded.text, rel, timezone);
}

function parseNewsItem(source: string, rel: string, timezone: string): NewsRead {
  const file = `${NEWS_DIR}/${rel}`;
  const parsed = parseFrontMatter(source, file);
  if ('problems' in parsed) return { problems: parsed.problems };
  const result = validate(newsSchema, parsed.data, file);
  if (!result.value) return { problems: result.problems };
  const front = result.value;
  const published = parsePublished(front.published, timezone);
  if (published === undefined) {
    return { problems: [{ file, field: 'published', expected: 'a real calendar date or date-time', found: JSON.stringify(front.published) }] };
  }
  const summary = parsed.body.trim();
  if (summary.length > LIMITS.summary) {
    return { problems: [{ file, field: '(body)', expected: `a summary of at most ${LIMITS.summary.toLocaleString('en')} characters`, found: `one of ${summary.length.toLocaleString('en')}` }] };
  }
  if (!summary) {
    return { problems: [{ file, field: '(body)', expected: 'a summary of a few sentences below the front matter', found: 'an empty body' }] };
  }
  return {
    item: {
      ...front,
      id: rel.replace(/\.md$/, '').split(path.sep).join('/'),
      file,
      published,
      storyKey: normaliseUrl(front.url),
      summary,
    },
  };
}

/** A date alone means midnight in the site's time zone; a date-time without offset is read there too. */
function parsePublished(value: string, timezone: string): number | undefined {
  const iso = value.replace(' ', 'T');
  // With an explicit offset the zone is irrelevant and Date.parse is exact (and far cheaper than
  // luxon); the round trip through the calendar rejects dates such as 2026-02-30.
  if (WITH_OFFSET.test(iso)) {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) || !sameCalendarDay(iso, ms) ? undefined : ms;
  }
  const dt = DateTime.fromISO(iso, { zone: timezone });
  return dt.isValid ? dt.toMillis() : undefined;
}

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function sameCalendarDay(iso: string, ms: number): boolean {
  const offset = /(Z|([+-])(\d{2}):?(\d{2}))$/.exec(iso)!;
  const minutes = offset[1] === 'Z' ? 0 : (offset[2] === '-' ? -1 : 1) * (Number(offset[3]) * 60 + Number(offset[4]));
  return new Date(ms + minutes * 60_000).toISOString().slice(0, 10) === iso.slice(0, 10);
}
