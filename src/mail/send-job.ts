// What `issue send` and the scheduler hand to the send loop for one stored issue: the compiled
// message, each reader's own signed links, and the settings from the configuration.
import type { Config } from '../content/config-schema.ts';
import type { Recipient } from '../render/tokens.ts';
import type { StoredIssueFiles } from '../store/issues.ts';
import { addressOf, compileIssueMessage, unsubscribeMailto } from './message.ts';
import type { SendJob, SendSettings } from './send-ports.ts';
import { DEFAULT_SEND_SETTINGS } from './send.ts';
import { signToken } from './signing.ts';
import type { SmtpTimeouts } from './transport.ts';

/** A reader's own values: a Message-ID and links signed for them alone. */
export function personaliser(config: Config, secret: string, issueId: string) {
  const host = new URL(config.baseUrl).hostname;
  const mailto = unsubscribeMailto(config);
  return (d: { subscriberId: number; name: string; tokenKey: string; unsubscribeKey: string }) => {
    const link = (purpose: 'unsubscribe' | 'preferences') =>
      `${config.baseUrl}/${purpose}?token=${signToken(secret, { subscriber: d.subscriberId, key: purpose === 'unsubscribe' ? d.unsubscribeKey : d.tokenKey, purpose, expires: 0 })}`;
    const tokens: Recipient = { unsubscribe: link('unsubscribe'), preferences: link('preferences'), name: d.name || 'there' };
    return { messageId: `${issueId}.${d.subscriberId}@${host}`, unsubscribeUrl: tokens.unsubscribe, unsubscribeMailto: mailto, tokens };
  };
}

export function sendJob(config: Config, secret: string, stored: StoredIssueFiles): SendJob {
  const { issue } = stored;
  return {
    issueId: issue.id,
    edition: issue.edition,
    envelopeFrom: addressOf(config.from),
    template: compileIssueMessage(config, issue, stored),
    personalise: personaliser(config, secret, issue.id),
  };
}

export function sendSettings(config: Config): SendSettings {
  return {
    ...DEFAULT_SEND_SETTINGS,
    concurrency: config.sending.concurrency,
    maxAttempts: config.sending.maxAttempts,
    leaseMs: config.leaseSeconds * 1000,
    stopMs: config.sending.stopTimeoutSeconds * 1000,
  };
}

/**
 * The pace one process keeps (messages a second, 0 for none): `ratePerSecond`, or the shared
 * `limits.perSecond` when that is lower, so that a run spreads its messages over each second instead
 * of spending the quota in a burst and waiting out the rest of it.
 */
export function pacePerSecond(config: Config): number {
  const { ratePerSecond, limits } = config.sending;
  const cap = limits.perSecond ?? 0;
  if (ratePerSecond > 0 && cap > 0) return Math.min(ratePerSecond, cap);
  return ratePerSecond || cap;
}

export function smtpTimeouts(config: Config): SmtpTimeouts {
  const s = config.sending;
  return { connectMs: s.connectTimeoutSeconds * 1000, greetingMs: s.greetingTimeoutSeconds * 1000, commandMs: s.commandTimeoutSeconds * 1000, dataMs: s.dataTimeoutSeconds * 1000 };
}
