// The confirmation mail for a queued job, built when it is sent: a link valid for seven days from
// the request, to a sign-up still waiting under the same address, bound to that sign-up's nonce.
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../content/config-schema.ts';
import { addressOf } from '../mail/message.ts';
import { signToken } from '../mail/signing.ts';
import type { ConfirmationJob } from '../store/confirmations.ts';
import type { SubscriberStore } from '../store/subscribers.ts';
import type { ConfirmationMessage } from './confirm-worker.ts';
import { editionsInWords } from '../words/labels.ts';
import { editionNames } from '../compose/slots.ts';
import { htmlText } from '../render/html-text.ts';

export const CONFIRM_TTL = 7 * 24 * 3600_000;

/** What a confirmation link is signed under: the reader's key and the nonce of this one sign-up. */
export const confirmKey = (tokenKey: string, nonce: string) => `${tokenKey}.${nonce}`;

export function confirmationComposer(o: { config: Config; secret: string; subscribers: SubscriberStore }): (job: ConfirmationJob) => Promise<ConfirmationMessage | undefined> {
  const { config } = o;
  return async (job) => {
    const subscriber = o.subscribers.get(job.subscriberId);
    // Only a sign-up still waiting for its reader (pending, or a reader who left and asked to come
    // back) under the same address gets a link; an active reader gets nothing.
    const nonce = subscriber?.confirmNonce;
    if (!subscriber || !nonce || subscriber.status === 'active' || subscriber.email.toLowerCase() !== job.email.toLowerCase()) return undefined;
    const token = signToken(o.secret, { subscriber: subscriber.id, key: confirmKey(subscriber.tokenKey, nonce), purpose: 'confirm', expires: job.requestedAt + CONFIRM_TTL });
    const link = `${config.baseUrl}/confirm?token=${token}`;
    // The editions this reader asked for, in the config's order (not every edition the site has).
    const editions = editionsInWords(config, editionNames(config).filter((e) => subscriber.editions.includes(e)), '&');
    const what = editions ? `${config.title} (${editions})` : config.title;
    const raw = await new Promise<Buffer>((resolve, reject) =>
      new MailComposer({
        from: config.from,
        to: subscriber.email,
        subject: `Confirm your subscription to ${config.title}`,
        text: `Please confirm that you want ${what} by email:\n\n${link}\n\nIf you did not ask for this, ignore this message: nothing happens unless you click.\n`,
        html: `<p>Please confirm that you want <strong>${htmlText(config.title)}</strong>${editions ? ` (${htmlText(editions)})` : ''} by email:</p><p><a href="${htmlText(link)}">Yes, subscribe me</a></p><p>If you did not ask for this, ignore this message: nothing happens unless you click.</p>`,
      }).compile().build((err, message) => (err ? reject(err) : resolve(message))),
    );
    return { raw, from: addressOf(config.from) };
  };
}
