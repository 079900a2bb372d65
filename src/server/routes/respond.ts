// Answers every route writes the same way, and the form reader the form routes share.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../guard.ts';

export function send(res: ServerResponse, status: number, body: string, type: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  send(res, 405, 'Method not allowed\n', 'text/plain; charset=utf-8');
}

/** A urlencoded form or a JSON object, as URLSearchParams. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const body = await readBody(req);
  if (!/application\/json/.test(req.headers['content-type'] ?? '')) return new URLSearchParams(body);
  const params = new URLSearchParams();
  try {
    const data = JSON.parse(body) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) for (const item of [v].flat()) params.append(k, String(item));
  } catch {
    // Not JSON: an empty form, which fails validation like any other bad input.
  }
  return params;
}
