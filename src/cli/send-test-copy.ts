// `issue send --to`: one test copy to one address, not recorded in the ledger.
import { UsageError } from '../content/problems.ts';
import type { Config } from '../content/config-schema.ts';
import { addressOf, compileIssueMessage } from '../mail/message.ts';
import { SmtpError } from '../mail/outcome.ts';
import { personaliser, smtpTimeouts } from '../mail/send-job.ts';
import { databasePath, openDatabase } from '../store/database.ts';
import type { StoredIssueFiles } from '../store/issues.ts';
import { hasLimits, takeQuota } from '../store/quota.ts';
import { addressProblem, newKey } from '../store/subscribers.ts';
import { smtpUrlFromEnv } from './options.ts';

export interface TestCopyReport {
  issue: string;
  mode: 'test';
  to: string;
  subject: string;
}

/** Takes one unit of the shared sending quota for a message outside an issue's run; refuses when it is used up. */
export function takeOneFromQuota(root: string, config: Config, now: number): void {
  if (!hasLimits(config.sending.limits)) return;
  const db = openDatabase(databasePath(root));
  let until: number | undefined;
  try {
    until = takeQuota(db, config.sending.limits, now);
  } finally {
    db.close();
  }
  if (until !== undefined) throw new UsageError(`the sending quota (sending.limits) is used up until ${new Date(until).toISOString()}; try again then`);
}

export async function sendTestCopy(config: Config, secret: string, stored: StoredIssueFiles, address: string, root: string): Promise<TestCopyReport> {
  const to = address.trim();
  const wrong = addressProblem(to);
  if (wrong) throw new UsageError(`--to expects an email address, found ${wrong}`);
  const { issue } = stored;
  const subject = `[Test] ${issue.subject}`;
  const template = compileIssueMessage(config, { ...issue, subject }, stored);
  const personal = personaliser(config, secret, issue.id)({ subscriberId: 0, name: '', tokenKey: newKey(), unsubscribeKey: newKey() });
  // nodemailer is loaded only when a command is about to send.
  const [{ smtpTransport }, { messageSigner }] = await Promise.all([import('../mail/transport.ts'), import('../mail/dkim-signer.ts')]);
  // A key setting that cannot sign is found before the copy takes its place in the quota.
  const signer = messageSigner(config);
  takeOneFromQuota(root, config, Date.now());
  const transport = smtpTransport({ url: smtpUrlFromEnv(), concurrency: 1, ratePerSecond: 0, timeouts: smtpTimeouts(config), signer });
  try {
    await transport.send(template.render({ email: to, name: '', ...personal }), { from: addressOf(config.from), to });
  } catch (err) {
    throw new SmtpError({ file: 'SMTP', expected: 'the test copy accepted' }, err);
  } finally {
    transport.close();
  }
  return { issue: issue.id, mode: 'test', to, subject };
}
