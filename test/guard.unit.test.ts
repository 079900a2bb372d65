// Request-hardening pieces shared by the servers: the body limit, same-origin redirects, the Host syntax check.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError, isValidHost, readBody, safeRedirectPath } from '../src/server/guard.ts';

describe('request guard', () => {
  it('a redirect target is always a path on this site, whatever it is built from (property)', () => {
    const tricky = fc.constantFrom('/', '//', '/\\', '\\', 'http:', 'https://evil.example', '%2f', '%5c', '.', '..', '@', 'evil.example', '\t', '\n', '\u0000', '?', '#', ':');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(tricky, { maxLength: 8 }).map((p) => p.join('')), fc.webUrl()), (target) => {
        const out = safeRedirectPath(target);
        assert.match(out, /^\/(?![/\\])/);
        assert.equal(new URL(out, 'https://site.example').origin, 'https://site.example', `${target} → ${out}`);
      }),
      { seed: 99, numRuns: 3000 },
    );
    assert.equal(safeRedirectPath('/guides/meta/'), '/guides/meta/');
    assert.equal(safeRedirectPath('//evil.example/x'), '/');
    assert.equal(safeRedirectPath('/\\evil.example'), '/');
    assert.equal(safeRedirectPath('https://evil.example/'), '/');
  });

  it('Host headers: names, addresses and ports; nothing else', () => {
    for (const ok of [undefined, 'localhost', 'localhost:4000', 'almanac.example.org', '127.0.0.1:80', '[::1]:4000', 'my_app:4000']) assert.ok(isValidHost(ok), String(ok));
    for (const bad of ['', 'a b', 'evil.example/x', 'x'.repeat(300), '@evil', 'host:port', 'localhost\u00e9']) assert.ok(!isValidHost(bad), bad);
  });

  it('a body over the limit is refused with a 413 and the connection can still carry the answer', async () => {
    const server = http.createServer((req, res) => {
      readBody(req, 1024).then(
        (body) => res.end(`got ${body.length}`),
        (err: HttpError) => {
          res.writeHead(err.status, { connection: 'close' }).end(err.message);
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const small = await fetch(base, { method: 'POST', body: 'x'.repeat(1024) });
      assert.equal(await small.text(), 'got 1024');
      const declared = await fetch(base, { method: 'POST', body: 'x'.repeat(1025) });
      assert.equal(declared.status, 413);
      assert.equal(await declared.text(), 'body too large');
      // Streamed without a length: refused as the bytes pass the limit.
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('y'.repeat(800)));
          c.enqueue(new TextEncoder().encode('y'.repeat(800)));
          c.close();
        },
      });
      const streamed = await fetch(base, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
      assert.equal(streamed.status, 413);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
