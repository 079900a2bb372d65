// `almanac issue new`: the start of an issue's notes file, with the stories the editor can pick from
// written as comments, so pins and drops are copied rather than typed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildCatalog } from '../compose/catalog.ts';
import { issueCandidates, type IssueStory } from '../compose/issue.ts';
import type { Edition } from '../compose/slots.ts';
import { oneLine } from '../compose/subject.ts';
import { issueNotesFile } from '../content/issue-notes.ts';
import type { Site } from '../content/model.ts';
import { ContentError, UsageError } from '../content/problems.ts';
import { calendarDate } from '../words/dates.ts';
import { editionLabel } from '../words/labels.ts';
import type { EarlierIssue } from '../compose/repeats.ts';
import { issueId } from './prepare.ts';

/** The notes file's text for one issue. */
export function notesTemplate(site: Site, edition: Edition, date: string, earlier: readonly EarlierIssue[]): string {
  const label = editionLabel(site.config, edition);
  const candidates = issueCandidates(site, buildCatalog(site), edition, date, earlier);
  if (!candidates) {
    throw new UsageError(`${label} is not scheduled on ${calendarDate(date)} (cron "${site.config.editions[edition].cron}" in ${site.config.timezone}); pick a date it goes out`);
  }
  const lines = [
    '---',
    `# Notes on ${label} ${date}. Every field is optional: uncomment what you use.`,
    '# subject: "A subject line that replaces the automatic one"',
    '# preheader: "The line inboxes show after the subject"',
    '# pin:          # story URLs to put first, in this order',
    '#   - https://…',
    '# drop:         # story URLs to leave out',
    '#   - https://…',
    '# guides:       # guide slugs to feature instead of the automatic choice',
    '#   - some-guide',
    '#',
    ...storyList('The stories in the order they would run:', candidates.running, 'No stories in the window yet.'),
    ...(candidates.more.length ? ['#', ...storyList('Left out by the edition\'s cap unless pinned:', candidates.more, '')] : []),
    '---',
    '',
  ];
  return lines.join('\n');
}

function storyList(heading: string, stories: IssueStory[], none: string): string[] {
  if (stories.length === 0) return [`# ${none}`];
  return [
    `# ${heading}`,
    ...stories.flatMap((s, i) => [`#   ${i + 1}. [${s.score}/10] ${oneLine(s.title)} — ${oneLine(s.source)}`, `#      ${oneLine(s.url)}`]),
  ];
}

/** Writes the notes file of an issue; never replaces one. Returns its path relative to the root. */
export function writeNotesFile(site: Site, edition: Edition, date: string, earlier: readonly EarlierIssue[]): string {
  const file = issueNotesFile(issueId(edition, date));
  const text = notesTemplate(site, edition, date, earlier);
  const abs = path.join(site.root, file);
  mkdirSync(path.dirname(abs), { recursive: true });
  try {
    writeFileSync(abs, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ContentError([{ file, expected: 'no notes file for this issue yet (`issue new` never replaces one)', found: 'a file already there: edit it instead' }]);
    }
    throw err;
  }
  return file;
}
