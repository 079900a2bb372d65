// Serving dist/: the right content type, validators (ETag, Last-Modified) with 304 answers, HEAD,
// caching for assets, and no way out of the folder however the path is spelled.
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { encodePath, safeRedirectPath } from './guard.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.atom': 'application/atom+xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** The file below `root` a URL path names, or undefined when it would leave `root` or is malformed. */
function resolvePath(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const full = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  return full === root || full.startsWith(`${root}${path.sep}`) ? full : undefined;
}

/**
 * Whether `file`, with every symbolic link followed, is still below `root` (itself followed, so a
 * dist/ that is a link to a release folder works): a link inside dist/ that points out is not served.
 */
async function inside(root: string, file: string): Promise<boolean> {
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]).catch(() => []);
  return realRoot !== undefined && realFile !== undefined && (realFile === realRoot || realFile.startsWith(`${realRoot}${path.sep}`));
}

/**
 * Answers a GET or HEAD for a file in `root`; returns false when there is none (the caller answers 404).
 * `page`, when given, is applied to each HTML page before it is sent (the same page always gives the
 * same answer, so the file's validators still hold).
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  urlPath: string,
  status = 200,
  page?: (html: string) => string,
): Promise<boolean> {
  let file = resolvePath(root, urlPath);
  if (!file) return false;
  let info = await stat(file).catch(() => undefined);
  if (info && !(await inside(root, file))) return false;
  if (info?.isDirectory()) {
    if (!urlPath.endsWith('/')) {
      // Built from the folder found, never from the request: the raw path may read as another host.
      const rel = path.relative(root, file);
      const location = safeRedirectPath(`${rel ? encodePath(rel.split(path.sep)) : ''}/`);
      res.writeHead(301, { location, 'content-length': '0' }).end();
      return true;
    }
    file = path.join(file, 'index.html');
    info = await stat(file).catch(() => undefined);
    if (info && !(await inside(root, file))) return false;
  }
  if (!info?.isFile()) return false;
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    etag,
    'last-modified': info.mtime.toUTCString(),
    // Assets change rarely but are not fingerprinted: an hour, then revalidate. Pages: always revalidate.
    'cache-control': urlPath.startsWith('/assets/') ? 'public, max-age=3600' : 'no-cache',
  };
  const fresh =
    req.headers['if-none-match'] === etag ||
    (!req.headers['if-none-match'] && req.headers['if-modified-since'] !== undefined && Date.parse(req.headers['if-modified-since']) >= Math.floor(info.mtimeMs / 1000) * 1000);
  if (fresh && status === 200) {
    res.writeHead(304, headers).end();
    return true;
  }
  if (page && path.extname(file).toLowerCase() === '.html') {
    const body = Buffer.from(page(await readFile(file, 'utf8')));
    res.writeHead(status, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  res.writeHead(status, { ...headers, 'content-length': String(info.size) });
  if (req.method === 'HEAD') res.end();
  // A file that vanishes or fails mid-read ends this response only.
  else pipeline(createReadStream(file), res, () => {});
  return true;
}
