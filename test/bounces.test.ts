// Bounces and complaints coming back: each reader's message leaves with its own signed return path
// (VERP) through a real SMTP server on loopback; what comes back to it (DSNs, ARF complaints, mail
// to the mailto unsubscribe address) goes through `bounces receive` and `bounces import` into the
// real SQLite store, and shows in `subscribers show`, `issue status` and `status`.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readReturnAddress } from '../src/mail/signing.ts';
import { PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { smtpSink, type Received } from './helpers/smtp.ts';

const SECRET = 'test-secret-0123456789abcdef-6f1c9a2e';
const ISSUE = '2026-04-15-midweek';

async function sentSite(n: number): Promise<{ root: string; messages: Received[] }> {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  await writeFiles(root, {
    'almanac.config.json': JSON.stringify({ ...config, bounces: { domain: 'Bounces.Example.org' } }),
    'list.csv': ['email,name,editions', ...Array.from({ length: n }, (_, i) => `reader${i}@example.com,Reader ${i},midweek`)].join('\n'),
  });
  assert.equal((await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
  const built = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
  assert.equal(built.code, 0, built.stderr);
  const sink = await smtpSink();
  try {
    const run = await almanac(['issue', 'send', ISSUE, '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET } });
    assert.equal(run.code, 0, run.stderr);
    return { root, messages: [...sink.messages] };
  } finally {
    await sink.close();
  }
}

describe('return paths (VERP)', () => {
  it('each reader\'s message has its own signed return path and mailto address, naming the reader and the issue', async () => {
    const { messages } = await sentSite(4);
    assert.equal(messages.length, 4);
    const senders = new Set<string>();
    for (const m of messages) {
      assert.match(m.from, /^bounces\+[0-9a-z-]+@bounces\.example\.org$/);
      assert.ok(m.from.split('@')[0]!.length <= 64, 'a local part of at most 64 characters');
      const claims = readReturnAddress(SECRET, m.from);
      assert.equal(claims?.purpose, 'bounce');
      assert.equal(claims?.issueId, ISSUE);
      senders.add(m.from);
      const mailto = /^List-Unsubscribe: <[^>]+>, <mailto:([^?>]+)\?subject=unsubscribe>/m.exec(m.raw.toString('latin1'))?.[1];
      assert.ok(mailto, 'a mailto unsubscribe address');
      const unsub = readReturnAddress(SECRET, mailto);
      assert.deepEqual(unsub, { ...claims, purpose: 'unsubscribe' }, 'the mailto address names the same reader');
      assert.equal(readReturnAddress('another-secret-0123456789abcdef-xyz', m.from), undefined, 'signed with the secret');
    }
    assert.equal(senders.size, 4, 'one return path per reader');
  });
});
