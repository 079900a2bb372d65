// /preferences: a reader's own link to choose editions. Choosing at least one is the reader's own
// re-subscription, recorded as such; choosing none unsubscribes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { editionNames } from '../../compose/slots.ts';
import { signToken } from '../../mail/signing.ts';
import { editionsInWords } from '../../words/labels.ts';
import type { Request, Route, ServeContext } from './context.ts';
import { readForm } from './respond.ts';

export function preferencesRoute(ctx: ServeContext): Route {
  const { o } = ctx;

  async function handle(req: IncomingMessage, res: ServerResponse, { url }: Request): Promise<void> {
    const who = ctx.claims(url, 'preferences');
    const subscriber = who && o.subscribers.get(who.subscriber);
    if (!subscriber) return ctx.invalidLink(res);
    const names = editionNames(o.config);
    // Only the site's editions are on the form; a reader's edition the config no longer has is kept
    // on their row (nothing is sent for it) whatever they choose here.
    let current = subscriber.status === 'active' ? subscriber.editions.filter((e) => names.includes(e)) : [];
    let saved = false;
    let token = url.searchParams.get('token')!;
    if (req.method === 'POST') {
      const ticked = (await readForm(req)).getAll('editions');
      const chosen = names.filter((e) => ticked.includes(e));
      const kept = subscriber.editions.filter((e) => !names.includes(e));
      const { subscriber: now } = o.subscribers.upsert(
        { email: subscriber.email, editions: chosen.length ? [...chosen, ...kept] : subscriber.editions, status: chosen.length ? 'active' : 'unsubscribed', resubscribedBy: 'the reader, by preferences link' },
        o.clock(),
      );
      // A re-subscription rotates the key: the form goes on working with a link signed under the new one.
      if (now.tokenKey !== subscriber.tokenKey) token = signToken(o.secret, { subscriber: now.id, key: now.tokenKey, purpose: 'preferences', expires: 0 });
      current = chosen;
      saved = true;
    }
    ctx.page(res, 200, {
      title: saved ? (current.length ? 'Saved' : 'You are unsubscribed') : 'Choose your editions',
      paragraphs: [current.length ? `You receive ${editionsInWords(o.config, current)}.` : 'You receive no editions.'],
      form: {
        action: `/preferences?token=${encodeURIComponent(token)}`,
        button: 'Save',
        editions: names.map((e) => ({ value: e, label: ctx.label(e), checked: current.includes(e) })),
      },
    });
  }

  return { methods: ['GET', 'POST'], postWrites: true, handle };
}
