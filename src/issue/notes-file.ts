// `almanac issue new`: the start of an issue's notes file, with the stories the editor can pick from
// written as comments, so pins and drops are copied rather than typed.
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildCatalog } from '../compose/catalog.ts';
import { composeIssue, issueCandidates, type IssueStory } from '../compose/issue.ts';
import { editionChoices, editionConfig, isCalendarDate, isEdition, slotOn, type Edition } from '../compose/slots.ts';
import { oneLine } from '../compose/subject.ts';
import { issueNotesFile, readIssueNotes } from '../content/issue-notes.ts';
import { ISSUE_NOTES_DIR } from '../content/paths.ts';
import { listFiles } from '../files/walk.ts';
import type { Site } from '../content/model.ts';
import { ContentError, ProblemError, UsageError, type Problem } from '../content/problems.ts';
import { calendarDate } from '../words/dates.ts';
import { editionLabel } from '../words/labels.ts';
import type { EarlierIssue } from '../compose/repeats.ts';
import { introProblems } from './notes-intro.ts';
import { issueId } from './prepare.ts';

/** The notes file's text for one issue. */
export function notesTemplate(site: Site, edition: Edition, date: string, earlier: readonly EarlierIssue[]): string {
  const label = editionLabel(site.config, edition);
  const candidates = issueCandidates(site, buildCatalog(site), edition, date, earlier);
  if (!candidates) {
    throw new UsageError(`${label} is not scheduled on ${calendarDate(date)} (cron "${editionConfig(site.config, edition).cron}" in ${site.config.timezone}); pick a date it goes out`);
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
  // Only the site's own files: a content/issues that links out of the site is not written into.
  const root = realpathSync(site.root);
  if (!realpathSync(path.dirname(abs)).startsWith(root + path.sep)) {
    throw new ContentError([{ file: ISSUE_NOTES_DIR, expected: 'a folder inside the site folder', found: 'a link to a folder outside it' }]);
  }
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

/**
 * The problems of every notes file in content/issues: a name that is no issue, a field that is wrong,
 * a pin, drop or guide that the issue's window does not have, or an image or link the email cannot
 * carry; and, as warnings, raw HTML in an intro. Notes of an issue that went out are only read: the
 * issue is not built again.
 */
export function notesProblems(site: Site, earlier: readonly EarlierIssue[]): { errors: Problem[]; warnings: Problem[] } {
  const dir = path.join(site.root, ISSUE_NOTES_DIR);
  const warnings: Problem[] = [];
  if (!existsSync(dir)) return { errors: [], warnings };
  const sent = new Set(earlier.map((e) => e.id));
  const catalog = buildCatalog(site);
  const problems: Problem[] = [];
  for (const rel of listFiles(dir, site.root)) {
    const file = `${ISSUE_NOTES_DIR}/${rel}`;
    const name = /^(\d{4}-\d{2}-\d{2})-([a-z][a-z0-9-]*)\.md$/.exec(rel);
    // The notes of an issue that went out stay as a record, even once its edition is turned off.
    if (name && sent.has(issueId(name[2]!, name[1]!))) continue;
    if (!name || !isCalendarDate(name[1]!) || !isEdition(site.config, name[2]!) || slotOn(site.config, name[2]!, name[1]!) === undefined) {
      problems.push({ file, expected: `a file named <YYYY-MM-DD>-<edition>.md for a date the edition goes out (${editionChoices(site.config)})`, found: `"${rel}"` });
      continue;
    }
    const [, date, edition] = name as unknown as [string, string, Edition];
    try {
      const notes = readIssueNotes(site.root, issueId(edition, date));
      if (!notes) continue;
      const composed = composeIssue(site, catalog, edition, date, Infinity, earlier, notes);
      if (!composed.ok && composed.reason === 'notes') problems.push(...composed.problems);
      const intro = introProblems(notes);
      problems.push(...intro.errors);
      warnings.push(...intro.warnings);
    } catch (err) {
      if (err instanceof ProblemError) problems.push(...err.problems);
      else throw err;
    }
  }
  return { errors: problems, warnings };
}
