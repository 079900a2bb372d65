// POST /webhooks/ses: Amazon SES bounce and complaint notifications through SNS. Only a message of
// the configured topic with a valid SNS signature is read; anything else gets 401 and changes
// nothing. A subscription confirmation is logged with the address that confirms it, for the operator
// to open (Almanac makes no request to AWS on a webhook's word).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sesVerdict } from '../../mail/provider-events.ts';
import { verifySns } from '../../mail/sns.ts';
import { readBody } from '../guard.ts';
import type { Route, ServeContext } from './context.ts';
import { send } from './respond.ts';

/** SNS messages are at most 256 KB; with the JSON around them a little more. */
const MAX_SNS_BODY = 300 * 1024;

export function sesRoute(ctx: ServeContext): Route {
  const { o } = ctx;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const intake = o.bounces;
    if (!intake?.ses) return send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
    const message = await verifySns(await readBody(req, MAX_SNS_BODY), intake.ses.topicArn, intake.ses.certificates);
    if (!message) return send(res, 401, 'Unauthorized: not an SNS message of the configured topic with a valid signature\n', 'text/plain; charset=utf-8');
    if (message.Type !== 'Notification') {
      if (message.Type === 'SubscriptionConfirmation') o.log(`SES webhook: to confirm the SNS subscription to ${message.TopicArn}, open ${message.SubscribeURL ?? '(no address given)'}`);
      return send(res, 200, '{"kind":"ignored","text":"not a notification"}\n', 'application/json');
    }
    const result = intake.events.apply(sesVerdict(message.Message, message.MessageId, (id) => o.subscribers.get(id)?.email), o.clock());
    send(res, 200, `${JSON.stringify({ kind: result.kind, text: result.text })}\n`, 'application/json');
  }
  return { methods: ['POST'], postWrites: true, handle };
}
