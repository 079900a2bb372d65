// The checks that `almanac check` and the preview run besides those of every build: client-support
// warnings (the errors stop every build already) and the spam score from a local SpamAssassin. They
// are slower and say how an issue will fare rather than whether it may go out.
import type { Config } from '../content/config-schema.ts';
import type { Finding } from '../mail/checks.ts';
import { clientFindings, clientGaps, type ClientGap, type TemplateSource } from '../mail/client-support.ts';
import { scoreMessage, spamFinding } from '../mail/spam-score.ts';
import type { TemplateSet } from '../render/templates.ts';

export interface ThoroughResult {
  findings: Finding[];
  /** What is worth knowing and no fault: the spam score under the limits, SpamAssassin missing. */
  notes: string[];
}

/** The email templates as the author wrote them (HTML ones: the text part has no CSS). */
export function emailTemplateSources(templates: TemplateSet): TemplateSource[] {
  return templates.files
    .filter(({ file }) => file.rel.startsWith('email/') && !file.rel.endsWith('.txt.hbs'))
    .map(({ file, source }) => ({ display: file.display, source }));
}

/** The client-support gaps that warn (those that stop a build are among every build's findings). */
export function clientWarnings(templates: TemplateSet): ClientGap[] {
  return clientGaps(emailTemplateSources(templates)).filter((g) => !g.critical);
}

/** The spam score of the message as sent, as a finding above the limits and as a note below them. */
export async function spamCheck(config: Config, sampleMime: Buffer): Promise<ThoroughResult> {
  const spam = await scoreMessage(sampleMime, config.checks.spam.timeoutSeconds);
  if (spam.kind === 'scored') {
    const { finding, note } = spamFinding(spam.report, config.checks.spam);
    return finding ? { findings: [finding], notes: [] } : { findings: [], notes: [note] };
  }
  if (spam.kind === 'absent') return { findings: [], notes: [SPAM_ABSENT(spam.command)] };
  return { findings: [{ check: 'spam-score', severity: 'warning', expected: 'a score from SpamAssassin', found: spam.reason }], notes: [] };
}

export const SPAM_ABSENT = (command: string) => `no spam score: SpamAssassin is not installed (${command} not found; on Debian: apt-get install spamassassin)`;

/** Both, for the preview: `templates` is left out for an issue already built (today's templates did not make it). */
export async function thoroughChecks(config: Config, sampleMime: Buffer, templates?: TemplateSet): Promise<ThoroughResult> {
  const spam = await spamCheck(config, sampleMime);
  const client = templates ? clientFindings(clientWarnings(templates)) : [];
  return { findings: [...client, ...spam.findings], notes: spam.notes };
}
