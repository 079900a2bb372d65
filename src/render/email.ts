// An issue as an email: Handlebars fills the MJML template, MJML compiles it once (strict), and the
// plain-text part comes from the same view model. Per-recipient values stay placeholders, filled in
// at send time, so this runs once per issue whatever the number of subscribers.
import type { ComposedIssue, IssueGuide, IssueStory } from '../compose/issue.ts';
import type { Config } from '../content/config-schema.ts';
import { slugify } from '../content/slug.ts';
import { ContentError, type Problem } from '../content/problems.ts';
import { markdownToText, renderSummaryText } from './markdown.ts';
import type { TemplateSet } from './templates.ts';
import { TOKENS } from './tokens.ts';
import { compileMjml, MjmlFailure, type MjmlProblem } from './mjml-thread.ts';
import { exactTime, longDate, shortDay } from '../words/dates.ts';
import { TAGLINE, allEditions, levelLabel } from '../words/labels.ts';


/** Characters that pad the preheader so the inbox preview does not run on into the body text. */
export const PREHEADER_FILL = ['\u00a0', '\u200c', '\u200b', '\u200d', '\u200e', '\u200f', '\ufeff'];
export const PREHEADER_WIDTH = 200;

/**
 * The padding that brings the preheader to PREHEADER_WIDTH characters, as character references.
 * MJML trims the content of <mj-preview> (String#trim, which removes U+00A0 and U+FEFF), so raw fill
 * characters at the end would be lost for some lengths; a reference is text to every parser on the way
 * and a character to the reader's client. Marked as HTML so `{{issue.preheaderPad}}` prints it as is.
 */
export function preheaderPad(preheader: string): { toHTML(): string; toString(): string } {
  const count = Math.max(0, PREHEADER_WIDTH - [...preheader].length);
  let refs = '';
  for (let i = 0; i < count; i++) refs += `&#x${PREHEADER_FILL[i % PREHEADER_FILL.length]!.codePointAt(0)!.toString(16).toUpperCase()};`;
  return { toHTML: () => refs, toString: () => refs };
}

export interface IssueMeta extends ComposedIssue {
  number: number;
  subject: string;
  preheader: string;
}

export interface RenderedEmail {
  html: string;
  text: string;
  mjml: string;
}

export function issueUrls(config: Config, id: string): { web: string; archive: string } {
  return { web: `${config.baseUrl}/issues/${id}/`, archive: `${config.baseUrl}/issues/` };
}

/** The view model both email templates (MJML and text) are filled from. */
export function emailView(config: Config, issue: IssueMeta): object {
  const urls = issueUrls(config, issue.id);
  const story = (s: IssueStory) => ({
    ...s,
    badge: scoreColours(s.score),
    // The day, not an age: "3d ago" would be wrong by the time the email is opened.
    day: shortDay(s.published, config.timezone),
    // A site's own template written when stories carried an age still reads {{ago}}: it gets the day too.
    ago: shortDay(s.published, config.timezone),
    exact: exactTime(s.published, config.timezone),
    summaryHtml: renderSummaryText(s.summary),
    summaryText: markdownToText(s.summary),
    // Tags in a pasted title mean nothing in plain text; the HTML part shows them escaped.
    titleText: markdownToText(s.title),
    sourceText: markdownToText(s.source),
    also: s.also.map((a) => ({ ...a, sourceText: markdownToText(a.source) })),
  });
  const guide = (g: IssueGuide) => ({ ...g, url: `${config.baseUrl}/guides/${g.slug}/`, levelLabel: levelLabel(g.level) });
  const count = 1 + issue.groups.reduce((n, g) => n + g.stories.length, 0);
  return {
    site: {
      title: config.title,
      baseUrl: config.baseUrl,
      host: new URL(config.baseUrl).host,
      language: config.language,
      editions: allEditions(config),
      tagline: TAGLINE,
    },
    issue: {
      ...issue,
      count,
      dateLabel: longDate(issue.scheduledAt, config.timezone),
      preheaderPad: preheaderPad(issue.preheader),
      webUrl: urls.web,
      archiveUrl: urls.archive,
      top: story(issue.top),
      groups: issue.groups.map((g) => ({
        topic: g.topic,
        topicUrl: `${config.baseUrl}/topics/${slugify(g.topic)}/`,
        stories: g.stories.map(story),
      })),
      guides: issue.guides.map(guide),
      guidesAreNew: issue.guides.some((g) => g.kind !== 'related'),
      weekGuides: issue.weekGuides.map(guide),
      // The editor's intro is rendered as untrusted text is: no raw HTML, only http(s) and mailto links.
      introHtml: issue.notes?.intro ? renderSummaryText(issue.notes.intro) : '',
      introText: issue.notes?.intro ? markdownToText(issue.notes.intro) : '',
    },
    tokens: TOKENS,
  };
}

/**
 * The page an edition's email is rendered from: its own `issue.<edition>.mjml` (or `.txt`) when the
 * site or Almanac has one, else the shared `issue.mjml`; each part is chosen on its own.
 */
export function emailPage(templates: TemplateSet, part: 'mjml' | 'txt', edition?: string): string {
  const own = edition === undefined ? undefined : `issue.${edition}.${part}`;
  return own !== undefined && templates.has(own) ? own : `issue.${part}`;
}

export async function renderEmail(templates: TemplateSet, view: object, edition?: string): Promise<RenderedEmail> {
  const page = emailPage(templates, 'mjml', edition);
  const mjml = templates.render(page, view);
  const text = `${templates.render(emailPage(templates, 'txt', edition), view).replace(/\n{3,}/g, '\n\n').trim()}\n`;
  let html: string;
  try {
    html = await compileMjml(mjml);
  } catch (err) {
    if (err instanceof MjmlFailure) throw new ContentError(mjmlProblems(err, templates, `templates/email/pages/${page}.hbs`));
    throw err;
  }
  return { html, text, mjml };
}

/** MJML reports lines of the generated document; point the editor at the template line instead. */
function mjmlProblems(err: MjmlFailure, templates: TemplateSet, page: string): Problem[] {
  const errors = err.problems;
  if (errors.length === 0) {
    return [{ file: page, expected: 'a template MJML can compile', found: err.message }];
  }
  // A template line rendered many times (a partial for each story) is one fault to fix: named once.
  const seen = new Set<string>();
  return errors
    .map((e) => ({ file: locateTag(templates, e, page), expected: 'valid MJML', found: e.message }))
    .filter((p) => !seen.has(`${p.file}\0${p.found}`) && seen.add(`${p.file}\0${p.found}`));
}

function locateTag(templates: TemplateSet, e: MjmlProblem, page: string): string {
  const attribute = /Attribute (\S+)/.exec(e.message)?.[1];
  let fallback: string | undefined;
  for (const { file, source } of templates.files) {
    const lines = source.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.includes(`<${e.tagName}`)) continue;
      const at = `${file.display}:${i + 1}`;
      if (!attribute || line.includes(`${attribute}=`)) return at;
      fallback ??= at;
    }
  }
  return fallback ?? page;
}

/** The badge colour rises with the score, as on the site; inline because mail clients need it so. */
function scoreColours(score: number): { bg: string; ink: string } {
  const accent = [0xa6, 0x3c, 0x17];
  const base = [0xf3, 0xef, 0xe6];
  // Mid-tones pass WCAG 4.5:1 with neither ink: dark ink up to 7, white from 8, and a step between.
  const s = Math.min(10, Math.max(1, score));
  const p = s >= 8 ? 0.82 + (0.18 * (s - 8)) / 2 : 0.12 + (0.58 * (s - 1)) / 6;
  const bg = `#${accent.map((a, i) => Math.round(p * a + (1 - p) * base[i]!).toString(16).padStart(2, '0')).join('')}`;
  return { bg, ink: score >= 8 ? '#ffffff' : '#1c1b19' };
}
