// The preflight before a run's first message: a server that never greets, or never answers the
// login, ends the run within the configured deadlines with exit 2, before anything is queued.
// Real loopback servers; the CLI in a child process.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { ledgerRows, sendInBackground, sendSite } from './helpers/send-site.ts';

/** Deadlines short enough that a hang shows in a second, each step half a second. */
const QUICK = { sending: { connectTimeoutSeconds: 0.5, greetingTimeoutSeconds: 0.5, commandTimeoutSeconds: 0.5 } };

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function bounded(run: ReturnType<typeof sendInBackground>, ms: number) {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), ms);
  try {
    return await run.done;
  } finally {
    clearTimeout(timer);
  }
}

describe('issue send: the preflight', () => {
  it('a server that accepts the connection and never greets: exit 2 within the deadline, no ledger row', async () => {
    const root = await sendSite(3, QUICK);
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => void sockets.push(s));
    const port = await listen(server);
    try {
      const run = await bounded(sendInBackground(root, `smtp://127.0.0.1:${port}`), 20_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.ok(run.ms < 8_000, `ended after ${run.ms} ms`);
      assert.match(run.stderr, /before the first message: .*greeting/i);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(ledgerRows(root), []);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a server that never answers the login: exit 2 within the deadline, no ledger row', async () => {
    const root = await sendSite(3, QUICK);
    const server = new SMTPServer({
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 200,
      onAuth() {}, // never calls back
    });
    server.on('error', () => {});
    const port = await listen(server.server);
    try {
      const run = await bounded(sendInBackground(root, `smtp://almanac:secret-pass@127.0.0.1:${port}`), 20_000);
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.ok(run.ms < 8_000, `ended after ${run.ms} ms`);
      assert.match(run.stderr, /before the first message/);
      assert.doesNotMatch(run.stderr + run.stdout, /secret-pass/, 'the password never appears');
      assert.deepEqual(ledgerRows(root), []);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
