// Preparing one issue for the inbox: compose, render once, build a sample recipient's message and
// run the checks on it. Writes nothing; the caller stores the result.
import { DateTime } from 'luxon';
import type { Catalog } from '../compose/catalog.ts';
import { composeIssue, preheaderText, subjectLine } from '../compose/issue.ts';
import type { Edition } from '../compose/slots.ts';
import { ContentError, UsageError } from '../content/problems.ts';
import type { Site } from '../content/model.ts';
import type { Config } from '../content/schema.ts';
import { emailView, issueUrls, renderEmail, type IssueMeta, type RenderedEmail } from '../render/email.ts';
import { TOKENS, sampleRecipient } from '../render/tokens.ts';
import type { TemplateSet } from '../render/templates.ts';
import type { StoredIssue } from '../store/issues.ts';
import { checkMessage, textOf, type Finding } from './checks.ts';
import { compileIssueMessage, unsubscribeMailto } from './message.ts';

export const TAGLINE = 'The week in AI, paired with guides that explain it.';

export interface PreparedIssue {
  issue: StoredIssue;
  email: RenderedEmail;
  findings: Finding[];
  sampleMime: Buffer;
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
}): Promise<PreparedIssue> {
  const { site, edition, date } = args;
  const { config } = site;
  const label = config.editions[edition].label;
  const composed = composeIssue(site, args.catalog, edition, date);
  if (!composed.ok && composed.reason === 'not-scheduled') {
    throw new UsageError(
      `${label} is not scheduled on ${DateTime.fromISO(date).toFormat('cccc d LLLL yyyy')} ` +
        `(cron "${config.editions[edition].cron}" in ${config.timezone}); pick a date it goes out`,
    );
  }
  if (!composed.ok) {
    const w = composed.window!;
    const when = (ms: number) => DateTime.fromMillis(ms, { zone: config.timezone }).toFormat('ccc d LLL yyyy HH:mm');
    throw new ContentError([
      {
        file: 'content/news',
        expected: `news items published after ${when(w.from)} and up to ${when(w.to)} (${config.timezone}) for ${label} ${date}`,
        found: 'none, so no issue was built (an empty email is never sent)',
      },
    ]);
  }
  if (!config.baseUrl.startsWith('https://')) {
    throw new ContentError([
      {
        file: 'almanac.config.json',
        field: 'baseUrl',
        expected: "the site's public https:// address (every link in an email must be absolute https)",
        found: JSON.stringify(config.baseUrl),
      },
    ]);
  }
  const id = issueId(edition, date);
  const meta: IssueMeta = {
    ...composed.issue,
    id,
    number: args.number,
    subject: subjectLine(composed.issue, args.number),
    preheader: preheaderText(composed.issue),
  };
  const email = await renderEmail(args.templates, emailView(config, meta, TAGLINE));
  const { findings, sampleMime } = await checkIssueEmail(config, meta, email);
  return { issue: { ...meta, builtAt: args.now }, email, findings, sampleMime };
}

/** Runs the email checks on the message a sample recipient would receive. */
export async function checkIssueEmail(
  config: Config,
  issue: Pick<IssueMeta, 'id' | 'subject' | 'scheduledAt'>,
  email: { html: string; text: string },
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
    contentText: textOf([issue, config.title, config.from]),
  });
  return { findings, sampleMime };
}
