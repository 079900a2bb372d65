// /healthz, for a load balancer or monitor: from what is already known, so it never waits on the database.
import type { Route, ServeContext } from './context.ts';
import { send } from './respond.ts';

export function healthRoute(ctx: ServeContext): Route {
  return {
    handle(_req, res) {
      const database = ctx.o.health?.state ?? 'ok';
      send(res, 200, `${JSON.stringify({ status: database === 'ok' ? 'ok' : 'degraded', database })}\n`, 'application/json; charset=utf-8');
    },
  };
}
