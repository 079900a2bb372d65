// Preparing one issue for the inbox: compose, render once, build a sample recipient's message and
// run the checks on it. Writes nothing; the caller stores the result.
import type { Catalog } from '../compose/catalog.ts';
import { composeIssue, type ComposedIssue, type IssueStory } from '../compose/issue.ts';
import type { EarlierIssue } from '../compose/repeats.ts';
import { PREHEADER_MAX, SUBJECT_MAX, clip, composeSubject, oneLine, preheaderText, type Subject } from '../compose/subject.ts';
import { editionConfig, type Edition } from '../compose/slots.ts';
import { NEWS_DIR } from '../content/paths.ts';
import { ConfigError, ContentError, EmptyWindowError, UsageError } from '../content/problems.ts';
import type { IssueNotes } from '../content/issue-notes.ts';
import type { Site } from '../content/model.ts';
import type { Config } from '../content/config-schema.ts';
import { emailView, issueUrls, renderEmail, type IssueMeta, type RenderedEmail } from '../render/email.ts';
import { markdownToText } from '../render/markdown.ts';
import { TOKENS, sampleRecipient } from '../render/tokens.ts';
import type { TemplateSet } from '../render/templates.ts';
import type { StoredIssue } from '../store/issues.ts';
import { HTML_ERROR_BYTES, checkMessage, loadMessageParser, type Finding } from '../mail/checks.ts';
import { compileIssueMessage, unsubscribeMailto } from '../mail/message.ts';
import { baseUrlProblem } from '../mail/readiness.ts';
import { calendarDate, weekdayTime } from '../words/dates.ts';
import { editionLabel } from '../words/labels.ts';
import { leadImages } from './lead-images.ts';
import { emailTemplateSources } from './template-sources.ts';
import { introProblems } from './notes-intro.ts';

export interface PreparedIssue {
  issue: StoredIssue;
  email: RenderedEmail;
  findings: Finding[];
  sampleMime: Buffer;
  /** What the preview shows besides the findings (the spam score under its limits, a missing SpamAssassin). */
  notes?: string[];
}

export function issueId(edition: Edition, date: string): string {
  return `${date}-${edition}`;
}

export async function prepareIssue(args: {
  site: Site;
  catalog: Catalog;
  templates: TemplateSet;
  edition: Edition;
  date: string;
  number: number;
  now: number;
  /** Issues that started going out: their stories are not told again unless edited. */
  earlier?: readonly EarlierIssue[];
  /** The editor's notes on this issue (content/issues/<id>.md), when there are any. */
  notes?: IssueNotes;
}): Promise<PreparedIssue> {
  const { site, edition, date } = args;
  const { config } = site;
  const label = editionLabel(config, edition);
  const composed = composeIssue(site, args.catalog, edition, date, Infinity, args.earlier, args.notes);
  // The intro's faults are the notes file's, named there, not found later as faults of the email.
  const intro = args.notes ? introProblems(args.notes) : { errors: [], warnings: [] };
  if (!composed.ok && composed.reason === 'notes') throw new ContentError([...composed.problems, ...intro.errors]);
  if (intro.errors.length) throw new ContentError(intro.errors);
  if (!composed.ok && composed.reason === 'not-scheduled') {
    throw new UsageError(
      `${label} is not scheduled on ${calendarDate(date)} ` +
        `(cron "${editionConfig(config, edition).cron}" in ${config.timezone}); pick a date it goes out`,
    );
  }
  if (!composed.ok) {
    const w = composed.window!;
    throw new EmptyWindowError([
      {
        file: NEWS_DIR,
        expected: `news items published after ${weekdayTime(w.from, config.timezone)} and up to ${weekdayTime(w.to, config.timezone)} (${config.timezone}) for ${label} ${date}`,
        found: composed.repeats
          ? `only ${composed.repeats} ${composed.repeats === 1 ? 'story' : 'stories'} already sent in an earlier issue and not edited since, so no issue was built (an empty email is never sent)`
          : 'none, so no issue was built (an empty email is never sent)',
      },
    ]);
  }
  const wrongBase = baseUrlProblem(config);
  if (wrongBase) throw new ConfigError([wrongBase]);
  const id = issueId(edition, date);
  // Featured guides are the same whatever number of stories fits.
  const images = await leadImages(site, args.catalog, composed.issue.guides);
  const render = async (issue: Omit<ComposedIssue, 'id'>) => {
    const meta: IssueMeta = {
      ...issue,
      guides: issue.guides.map((g) => (images.has(g.slug) ? { ...g, image: images.get(g.slug) } : g)),
      id,
      number: args.number,
      // The editor's words replace the automatic ones, made one line and clipped to what inboxes show.
      subject: issue.notes?.subject ? clip(oneLine(issue.notes.subject), SUBJECT_MAX) : composeSubject(issue.editionLabel, args.number, issue.top.title).text,
      preheader: issue.notes?.preheader ? clip(oneLine(issue.notes.preheader), PREHEADER_MAX) : preheaderText(issue),
    };
    return { meta, email: await renderEmail(args.templates, emailView(config, meta), edition) };
  };
  // Loaded while MJML compiles on its own thread: the checks below read the message back with it.
  void loadMessageParser();
  let rendered = await render(composed.issue);
  const full = storiesOf(composed.issue);
  let cut: IssueStory[] = [];
  if (htmlBytes(rendered.email.html) > SIZE_BUDGET && full.length > 1) {
    // Too large for the inbox: keep the most stories that fit, leaving out the lowest-ranked ones.
    // Fewer stories never make the issue larger, so a binary search finds that number.
    let fits: typeof rendered | undefined;
    let lo = 1;
    let hi = full.length - 1;
    while (lo <= hi) {
      const keep = Math.floor((lo + hi) / 2);
      const smaller = composeIssue(site, args.catalog, edition, date, keep, args.earlier, args.notes);
      if (!smaller.ok) break;
      const attempt = await render(smaller.issue);
      if (htmlBytes(attempt.email.html) <= SIZE_BUDGET) {
        fits = attempt;
        lo = keep + 1;
      } else hi = keep - 1;
    }
    if (fits) {
      const kept = new Set(storiesOf(fits.meta).map((st) => st.id));
      cut = full.filter((st) => !kept.has(st.id));
      rendered = fits;
    }
  }
  const { meta, email } = rendered;
  const { findings, sampleMime } = await checkIssueEmail(config, meta, email, args.templates);
  if (cut.length) findings.unshift(sizeCapFinding(cut, full.length));
  findings.unshift(...intro.warnings.map((p): Finding => ({ check: p.field ?? 'intro', severity: 'warning', expected: p.expected, found: p.found, file: p.file })));
  // Only the automatic subject: one from the notes is the editor's own.
  const subject = composeSubject(meta.editionLabel, meta.number, meta.top.title);
  if (subject.shortened && !meta.notes?.subject) findings.unshift(subjectFinding(subject));
  return { issue: { ...meta, builtAt: args.now }, email, findings, sampleMime };
}

/**
 * The most decoded HTML an issue may have before stories are left out: under the size at which Gmail
 * clips, with room for what each reader's own links add to the sample recipient's.
 */
const SIZE_BUDGET = HTML_ERROR_BYTES - 2_000;

function htmlBytes(html: string): number {
  return Buffer.byteLength(html, 'utf8');
}

/** The issue's stories, most important first (score, then recency), as the composer ranked them. */
function storiesOf(issue: Pick<ComposedIssue, 'top' | 'groups'>): IssueStory[] {
  return [issue.top, ...issue.groups.flatMap((g) => g.stories)].sort((a, b) => b.score - a.score || b.published - a.published);
}

function sizeCapFinding(cut: IssueStory[], of: number): Finding {
  const named = cut.slice(0, 5).map((st) => `“${clip(oneLine(st.title), 60)}” (${clip(oneLine(st.source), 30)}, score ${st.score})`);
  const more = cut.length > named.length ? ` and ${cut.length - named.length} more` : '';
  return {
    check: 'html-size',
    severity: 'warning',
    expected: `all ${of} stories within ${HTML_ERROR_BYTES.toLocaleString('en-US')} bytes of HTML (Gmail clips beyond)`,
    found: `${cut.length} lowest-ranked stor${cut.length === 1 ? 'y' : 'ies'} left out to fit: ${named.join(', ')}${more}`,
  };
}

function subjectFinding(subject: Subject): Finding {
  return {
    check: 'subject',
    severity: 'warning',
    expected: `the lead headline whole in a subject of at most ${SUBJECT_MAX} characters`,
    found: `shortened to “${subject.text}” from “${clip(subject.headline, 120)}”`,
  };
}

/**
 * Runs the email checks on the message a sample recipient would receive; with the templates, a
 * finding about the markup names the template it was written in.
 */
export async function checkIssueEmail(
  config: Config,
  issue: Pick<IssueMeta, 'id' | 'subject' | 'scheduledAt'> & Partial<IssueMeta>,
  email: { html: string; text: string },
  templates?: TemplateSet,
): Promise<{ findings: Finding[]; sampleMime: Buffer }> {
  const sample = sampleRecipient(config.baseUrl);
  // The very path a send takes: the message compiled once, then one recipient's copy of it.
  const sampleMime = compileIssueMessage(config, issue, email).render({
    email: 'reader@example.com',
    name: 'Reader',
    messageId: `${issue.id}.sample@${new URL(config.baseUrl).hostname}`,
    unsubscribeUrl: sample.unsubscribe,
    unsubscribeMailto: unsubscribeMailto(config),
    tokens: sample,
  });
  const findings = await checkMessage({
    mime: sampleMime,
    unpersonalised: email,
    placeholders: { unsubscribe: TOKENS.unsubscribe, preferences: TOKENS.preferences },
    sample,
    webUrl: issueUrls(config, issue.id).web,
    // As written, and as the text part shows it (Markdown and tags taken out).
    contentText: [config.title, config.from, ...textsOf(issue)].flatMap((t) => [t, markdownToText(t)]).join('\n'),
    ...(templates ? { templates: emailTemplateSources(templates) } : {}),
  });
  return { findings, sampleMime };
}

/** Every string in the issue's content (titles, summaries, sources, labels …), however deep. */
function textsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(textsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(textsOf);
  return [];
}
