// POST /webhooks/mailgun: Mailgun's bounce, complaint and unsubscribe events. A request that is not
// signed with the webhook signing key (or is older than a few minutes) gets 401 and changes nothing;
// a signed event that is ignored still gets 200, so that Mailgun does not send it again.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mailgunVerdict, verifyMailgun } from '../../mail/provider-events.ts';
import { readBody } from '../guard.ts';
import type { Route, ServeContext } from './context.ts';
import { send } from './respond.ts';

/** Mailgun's payloads are a few kilobytes; a message's headers can make one larger. */
const MAX_WEBHOOK_BODY = 256 * 1024;

export function mailgunRoute(ctx: ServeContext): Route {
  const { o } = ctx;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const intake = o.bounces;
    if (!intake?.mailgunKey) return send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
    const payload = verifyMailgun(await readBody(req, MAX_WEBHOOK_BODY), intake.mailgunKey, o.clock());
    if (!payload) return send(res, 401, 'Unauthorized: not signed with this site\'s Mailgun webhook signing key\n', 'text/plain; charset=utf-8');
    const verdict = mailgunVerdict(payload, (id) => o.subscribers.get(id)?.email);
    const result = intake.events.apply(verdict, o.clock());
    send(res, 200, `${JSON.stringify({ kind: result.kind, text: result.text })}\n`, 'application/json');
  }
  return { methods: ['POST'], postWrites: true, handle };
}
