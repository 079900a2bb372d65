// /preferences: a reader's own link to choose editions. Choosing at least one is the reader's own
// re-subscription, recorded as such; choosing none unsubscribes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EDITIONS, type Edition } from '../../compose/slots.ts';
import { signToken } from '../../mail/signing.ts';
import type { Request, Route, ServeContext } from './context.ts';
import { readForm } from './respond.ts';

export function preferencesRoute(ctx: ServeContext): Route {
  const { o } = ctx;

  async function handle(req: IncomingMessage, res: ServerResponse, { url }: Request): Promise<void> {
    const who = ctx.claims(url, 'preferences');
    const subscriber = who && o.subscribers.get(who.subscriber);
    if (!subscriber) return ctx.invalidLink(res);
    let current = subscriber.status === 'active' ? subscriber.editions : [];
    let saved = false;
    let token = url.searchParams.get('token')!;
    if (req.method === 'POST') {
      const chosen = (await readForm(req)).getAll('editions').filter((e): e is Edition => (EDITIONS as readonly string[]).includes(e));
      const { subscriber: now } = o.subscribers.upsert(
        { email: subscriber.email, editions: chosen.length ? chosen : subscriber.editions, status: chosen.length ? 'active' : 'unsubscribed', resubscribedBy: 'the reader, by preferences link' },
        o.clock(),
      );
      // A re-subscription rotates the key: the form goes on working with a link signed under the new one.
      if (now.tokenKey !== subscriber.tokenKey) token = signToken(o.secret, { subscriber: now.id, key: now.tokenKey, purpose: 'preferences', expires: 0 });
      current = chosen;
      saved = true;
    }
    ctx.page(res, 200, {
      title: saved ? (current.length ? 'Saved' : 'You are unsubscribed') : 'Choose your editions',
      paragraphs: [current.length ? `You receive ${current.map((e) => ctx.label(e)).join(' and ')}.` : 'You receive no editions.'],
      form: {
        action: `/preferences?token=${encodeURIComponent(token)}`,
        button: 'Save',
        editions: EDITIONS.map((e) => ({ value: e, label: ctx.label(e), checked: current.includes(e) })),
      },
    });
  }

  return { methods: ['GET', 'POST'], postWrites: true, handle };
}
