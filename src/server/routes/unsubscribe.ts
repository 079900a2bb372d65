// /unsubscribe: GET shows a page with one button; POST unsubscribes, and a mail program's RFC 8058
// one-click POST gets a plain answer instead of a page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { signToken } from '../../mail/signing.ts';
import { readBody } from '../guard.ts';
import type { Request, Route, ServeContext } from './context.ts';
import { send } from './respond.ts';

export function unsubscribeRoute(ctx: ServeContext): Route {
  const { o } = ctx;

  async function handle(req: IncomingMessage, res: ServerResponse, { url }: Request): Promise<void> {
    const who = ctx.claims(url, 'unsubscribe');
    if (!who) return ctx.invalidLink(res);
    if (req.method === 'GET') {
      return ctx.page(res, 200, {
        title: `Unsubscribe from ${o.config.title}?`,
        paragraphs: ['One click and you will get no more issues.'],
        form: { action: `/unsubscribe?token=${encodeURIComponent(url.searchParams.get('token')!)}`, button: 'Unsubscribe' },
      });
    }
    const body = await readBody(req);
    o.subscribers.setStatus(who.subscriber, 'unsubscribed', o.clock());
    // RFC 8058: a mail program's one-click POST gets a plain answer, no page.
    if (body.trim() === 'List-Unsubscribe=One-Click') return send(res, 200, 'Unsubscribed.\n', 'text/plain; charset=utf-8');
    const prefs = signToken(o.secret, { subscriber: who.subscriber, key: ctx.keyOf('preferences', who.subscriber) ?? '', purpose: 'preferences', expires: 0 });
    ctx.page(res, 200, {
      title: 'You are unsubscribed',
      paragraphs: ['You will get no more issues. Changed your mind, or want just one edition?'],
      links: [{ url: `/preferences?token=${prefs}`, label: 'Choose editions' }, { url: '/#subscribe', label: 'Subscribe again' }],
    });
  }

  return { methods: ['GET', 'POST'], postWrites: true, handle };
}
