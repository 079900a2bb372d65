// The checks that `almanac check` and the preview run besides those of every build: client support
// and the spam score from a local SpamAssassin. They take longer (caniemail's data, a Perl process)
// and judge the templates and the wording rather than one issue's markup, so `issue build` and the
// scheduler leave them out.
import type { Config } from '../content/config-schema.ts';
import type { Finding } from '../mail/checks.ts';
import { clientGaps, type ClientGap } from '../mail/client-support.ts';
import { scoreMessage, spamFinding } from '../mail/spam-score.ts';
import type { TemplateSet } from '../render/templates.ts';
import { emailTemplateSources } from './template-sources.ts';

export interface ThoroughResult {
  findings: Finding[];
  /** What is worth knowing and no fault: the spam score under the limits, SpamAssassin missing. */
  notes: string[];
  /** SpamAssassin did not answer in time: asking again for the next message would only wait as long. */
  timedOut?: boolean;
}

/** What the email templates use that a client family lacks (errors for layout, the rest warnings). */
export function clientSupport(templates: TemplateSet): ClientGap[] {
  return clientGaps(emailTemplateSources(templates));
}

/** The spam score of the message as sent, as a finding above the limits and as a note below them. */
export async function spamCheck(config: Config, sampleMime: Buffer): Promise<ThoroughResult> {
  const spam = await scoreMessage(sampleMime, config.checks.spam.timeoutSeconds);
  if (spam.kind === 'scored') {
    const { finding, note } = spamFinding(spam.report, config.checks.spam);
    return finding ? { findings: [finding], notes: [] } : { findings: [], notes: [note] };
  }
  if (spam.kind === 'absent') return { findings: [], notes: [SPAM_ABSENT(spam.command)] };
  if (spam.kind === 'timeout') return { findings: [spamTimeout(spam.seconds)], notes: [], timedOut: true };
  return { findings: [{ check: 'spam-score', severity: 'warning', expected: 'a score from SpamAssassin', found: spam.reason }], notes: [] };
}

/** A warning, not an error: a slow SpamAssassin says nothing about the message. */
export function spamTimeout(seconds: number): Finding {
  return {
    check: 'spam-score',
    severity: 'warning',
    expected: `a score from SpamAssassin within ${seconds} s (checks.spam.timeoutSeconds)`,
    found: `no spam score: SpamAssassin did not answer within ${seconds} s and was stopped`,
  };
}

export const SPAM_ABSENT = (command: string) => `no spam score: SpamAssassin is not installed (${command} not found; on Debian: apt-get install spamassassin)`;
