// The confirmation mail for a queued job, built when it is sent: a link valid for seven days from
// the request, to a subscriber who is still pending under the same address.
import MailComposer from 'nodemailer/lib/mail-composer';
import { EDITIONS } from '../compose/slots.ts';
import type { Config } from '../content/schema.ts';
import { addressOf } from '../mail/message.ts';
import { signToken } from '../mail/signing.ts';
import type { ConfirmationJob } from '../store/confirmations.ts';
import type { SubscriberStore } from '../store/subscribers.ts';
import type { ConfirmationMessage } from './confirm-worker.ts';
import { escapeHtml } from './http.ts';

export const CONFIRM_TTL = 7 * 24 * 3600_000;

export function confirmationComposer(o: { config: Config; secret: string; subscribers: SubscriberStore }): (job: ConfirmationJob) => Promise<ConfirmationMessage | undefined> {
  const { config } = o;
  const editions = EDITIONS.map((e) => config.editions[e].label).join(' & ');
  return async (job) => {
    const subscriber = o.subscribers.get(job.subscriberId);
    if (!subscriber || subscriber.status !== 'pending' || subscriber.email.toLowerCase() !== job.email.toLowerCase()) return undefined;
    const token = signToken(o.secret, { subscriber: subscriber.id, purpose: 'confirm', expires: job.requestedAt + CONFIRM_TTL });
    const link = `${config.baseUrl}/confirm?token=${token}`;
    const raw = await new Promise<Buffer>((resolve, reject) =>
      new MailComposer({
        from: config.from,
        to: subscriber.email,
        subject: `Confirm your subscription to ${config.title}`,
        text: `Please confirm that you want ${config.title} (${editions}) by email:\n\n${link}\n\nIf you did not ask for this, ignore this message: nothing happens unless you click.\n`,
        html: `<p>Please confirm that you want <strong>${escapeHtml(config.title)}</strong> by email:</p><p><a href="${escapeHtml(link)}">Yes, subscribe me</a></p><p>If you did not ask for this, ignore this message: nothing happens unless you click.</p>`,
      }).compile().build((err, message) => (err ? reject(err) : resolve(message))),
    );
    return { raw, from: addressOf(config.from) };
  };
}
