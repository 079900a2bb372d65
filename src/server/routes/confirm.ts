// /confirm: the link in the confirmation mail opens a page with one button, and only its POST
// subscribes: mail scanners and link previews fetch every link in a message, which must not confirm
// for the reader. The GET checks the link without using it up; the POST consumes the sign-up's nonce.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Edition } from '../../compose/slots.ts';
import { verifyToken } from '../../mail/signing.ts';
import { editionsInWords } from '../../words/labels.ts';
import { confirmKey } from '../confirmation-mail.ts';
import { readBody } from '../guard.ts';
import type { Request, Route, ServeContext } from './context.ts';

export function confirmRoute(ctx: ServeContext): Route {
  const { o } = ctx;
  const editionsOf = (editions: readonly Edition[]) => editionsInWords(o.config, editions);

  async function handle(req: IncomingMessage, res: ServerResponse, { url }: Request): Promise<void> {
    const token = url.searchParams.get('token') ?? '';
    let nonce: string | null = null;
    const who = verifyToken(o.secret, token, 'confirm', o.clock(), (id) => {
      const s = o.subscribers.get(id);
      nonce = s?.confirmNonce ?? null;
      return s && nonce !== null ? confirmKey(s.tokenKey, nonce) : undefined;
    });
    if (req.method === 'GET') {
      const subscriber = who && nonce !== null ? o.subscribers.get(who.subscriber) : undefined;
      if (!subscriber) return ctx.invalidLink(res);
      return ctx.page(res, 200, {
        title: `Confirm your subscription to ${o.config.title}`,
        paragraphs: [`${subscriber.email} will receive ${editionsOf(subscriber.editions)}.`],
        form: { action: `/confirm?token=${encodeURIComponent(token)}`, button: 'Yes, subscribe me' },
      });
    }
    await readBody(req);
    // Single use: the nonce the link was checked against is cleared as the sign-up becomes active,
    // in one transaction with checking it is still the one waiting, so a replay finds none.
    const subscriber = who && nonce !== null ? o.subscribers.confirm(who.subscriber, nonce, o.clock()) : undefined;
    if (!subscriber) return ctx.invalidLink(res);
    ctx.page(res, 200, { title: 'You are in', paragraphs: [`${subscriber.email} will receive ${editionsOf(subscriber.editions)}.`], links: [{ url: '/', label: `Read ${o.config.title}` }] });
  }

  return { methods: ['GET', 'POST'], postWrites: true, handle };
}
