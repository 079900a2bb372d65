// What `issue send` and the scheduler hand to the send loop for one stored issue: the compiled
// message, each reader's own signed links, and what to do with a bounced address.
import type { Config } from '../content/schema.ts';
import type { Recipient } from '../render/tokens.ts';
import type { StoredIssueFiles } from '../store/issues.ts';
import type { SubscriberStore } from '../store/subscribers.ts';
import { addressOf, compileIssueMessage, unsubscribeMailto } from './message.ts';
import { DEFAULT_SEND_SETTINGS, type SendJob, type SendSettings } from './send.ts';
import { signToken } from './signing.ts';

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

export function sendJob(config: Config, secret: string, stored: StoredIssueFiles, subscribers: SubscriberStore): SendJob {
  const { issue } = stored;
  return {
    issueId: issue.id,
    edition: issue.edition,
    envelopeFrom: addressOf(config.from),
    template: compileIssueMessage(config, issue, stored),
    personalise: personaliser(config, secret, issue.id),
    bounce: (subscriberId, now) => subscribers.setStatus(subscriberId, 'bounced', now),
  };
}

export function sendSettings(config: Config): SendSettings {
  return { ...DEFAULT_SEND_SETTINGS, concurrency: config.sending.concurrency, maxAttempts: config.sending.maxAttempts };
}
