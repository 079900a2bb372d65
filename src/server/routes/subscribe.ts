// POST /subscribe: double opt-in. The answer is the same, in words and in time, whether or not the
// address is known; the confirmation mail goes out from a queue, after the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { editionNames } from '../../compose/slots.ts';
import { addressProblem, isEmailAddress } from '../../store/subscribers.ts';
import { limitKey } from '../client-address.ts';
import { isBusyError } from '../db-health.ts';
import { HttpError } from '../guard.ts';
import { RateLimiter } from '../rate-limit.ts';
import type { Request, Route, ServeContext } from './context.ts';
import { readForm } from './respond.ts';

export function subscribeRoute(ctx: ServeContext): Route {
  const { o } = ctx;
  const limiter = new RateLimiter(o.subscribeLimit?.max ?? 5, o.subscribeLimit?.windowMs ?? 10 * 60_000);

  async function handle(req: IncomingMessage, res: ServerResponse, { wantsJson, client }: Request): Promise<void> {
    const wait = limiter.take(limitKey(client), o.clock());
    if (wait > 0) {
      res.setHeader('retry-after', String(Math.ceil(wait / 1000)));
      return ctx.reply(res, wantsJson, 429, 'Too many requests', ['Please wait a few minutes before trying again.']);
    }
    const form = await readForm(req);
    const email = (form.get('email') ?? '').trim();
    if (!isEmailAddress(email)) {
      const hidden = addressProblem(email)?.includes('invisible or control character');
      return ctx.reply(res, wantsJson, 400, 'That address does not look right', [hidden ? 'It contains an invisible or control character; type it again by hand.' : 'Check it and try again.']);
    }
    const confirmations = o.confirmations;
    if (!confirmations) return ctx.reply(res, wantsJson, 503, 'Subscriptions are paused', ['Please try again later.']);
    const names = editionNames(o.config);
    const ticked = form.getAll('editions');
    const chosen = names.filter((e) => ticked.includes(e));
    const editions = chosen.length ? chosen : names;
    // Started before the work, so that the timer does not count the work's own time.
    const floor = new Promise((resolve) => setTimeout(resolve, o.subscribeAnswerMs ?? 25));
    try {
      ctx.writable();
      // The same answer, sent before any mail is and after the same fixed time (`floor`), whether or
      // not the address is known: nobody learns who is subscribed, by the words or by the time they
      // take. A row is queued for an active reader too; the worker finds nothing to send for it. An
      // address that unsubscribed or bounced stays so until its reader uses the link.
      const now = o.clock();
      const queued = o.subscribers.transaction(() => {
        const id = o.subscribers.signUp(email, editions, now)?.subscriber.id ?? o.subscribers.find(email)!.id;
        return confirmations.queue.enqueue(id, email, now, o.recipientGapMs ?? 10 * 60_000);
      });
      o.health?.ok();
      if (queued) confirmations.wake();
    } catch (err) {
      if (!(err instanceof HttpError) && !isBusyError(err)) throw err;
      // The reader gets the same kind of page (or JSON) as any other answer here, not a bare error.
      if (isBusyError(err)) o.health?.busy();
      await floor;
      res.setHeader('retry-after', String(o.health?.retryAfter() ?? 1));
      return ctx.reply(res, wantsJson, 503, 'Busy for a moment', ['Nothing was saved. Please try again in a few seconds.']);
    }
    await floor;
    ctx.reply(res, wantsJson, 200, 'Check your inbox', [`If ${email} can receive mail, a message with a link to confirm is on its way. The link works for seven days.`]);
  }

  return { methods: ['POST'], handle };
}
