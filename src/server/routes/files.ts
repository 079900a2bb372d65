// Every other path: a file of dist/, or its 404 page.
import { servePage } from '../served-page.ts';
import { serveFile } from '../static.ts';
import type { Route } from './context.ts';
import { send } from './respond.ts';

export function filesRoute(distDir: string): Route {
  return {
    methods: ['GET', 'HEAD'],
    async handle(req, res, { url }) {
      if (await serveFile(req, res, distDir, url.pathname, 200, servePage(res))) return;
      if (!(await serveFile(req, res, distDir, '/404.html', 404, servePage(res)))) send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
    },
  };
}
