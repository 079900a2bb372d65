// `almanac check` fails when the next issue could not be built or sent, naming why.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { CheckReport } from '../src/cli/check.ts';
import { tempSite, writeFiles } from './helpers/cli.ts';
import { json, runMain } from './helpers/main.ts';

// The next Midweek after this (15 April 2026) has sample news in its window.
const NOW = '2026-04-13T09:00:00Z';
const READY = { baseUrl: 'https://letters.example.org', from: 'The Letter <letters@example.org>' };

async function site(config: Record<string, unknown>, files: Record<string, string> = {}): Promise<string> {
  const root = await tempSite({ sample: true });
  await writeFiles(root, { 'almanac.config.json': JSON.stringify(config), ...files });
  return root;
}

describe('check', () => {
  it('passes a site whose next issues can be built and sent, and reports as JSON', async () => {
    const run = await runMain(['check', '--json', '--root', await site(READY), '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const report = json<CheckReport>(run);
    assert.equal(report.publishedGuides, 5);
    assert.equal(report.newsItems, 19);
    assert.equal(report.builtIssuesChecked, 0);
    assert.ok(report.pages > 0 && report.files >= report.pages);
    assert.ok(Array.isArray(report.warnings) && Array.isArray(report.notes));
  });

  it('fails on a baseUrl that is not https, naming it', async () => {
    const run = await runMain(['check', '--root', await site({ ...READY, baseUrl: 'http://localhost:4000' }), '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^almanac\.config\.json: baseUrl: expected the site's public https:\/\/ address .*, found "http:\/\/localhost:4000"$/m);
    assert.equal(run.stderr.match(/baseUrl/g)?.length, 1, 'named once, not once per edition');
  });

  it('fails on a sender without a deliverable address, naming it', async () => {
    const run = await runMain(['check', '--root', await site({ baseUrl: READY.baseUrl }), '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^almanac\.config\.json: from: expected a sender with an address readers can reply to.*, found "Call Me Almanac <almanac@localhost>"$/m);
  });

  it('fails when the email template does not render, naming the template', async () => {
    const broken = { 'templates/email/pages/issue.mjml.hbs': '<mjml><mj-body><mj-nonsense>{{subject}}</mj-nonsense></mj-body></mjml>\n' };
    const run = await runMain(['check', '--root', await site(READY, broken), '--now', NOW]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /templates\/email\/pages\/issue\.mjml\.hbs/);
  });

  it('notes, without failing, a next issue with no news in its window yet', async () => {
    const run = await runMain(['check', '--root', await site(READY), '--now', '2026-12-01T09:00:00Z']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /note: next Midweek \(2026-12-02\): content\/news: expected news items published after/);
  });

  describe('DKIM settings, without the network', () => {
    const DKIM = { ...READY, sending: { dkim: { domain: 'example.org', selector: 's1' } } };
    const NO_KEYS = { DKIM_PRIVATE_KEY: undefined, DKIM_PRIVATE_KEY_FILE: undefined, DKIM_ED25519_PRIVATE_KEY: undefined, DKIM_ED25519_PRIVATE_KEY_FILE: undefined };
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const edPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const keyLine = (pem: string) => pem.split('\n')[1]!.slice(0, 24);

    it('passes a selector whose key is set', async () => {
      const run = await runMain(['check', '--root', await site(DKIM), '--now', NOW], { ...NO_KEYS, DKIM_PRIVATE_KEY: rsaPem });
      assert.equal(run.code, 0, run.stderr);
    });

    const cases: [string, object, Record<string, string>, RegExp, string?][] = [
      ['a selector without a key variable', DKIM, {}, /^environment: DKIM_PRIVATE_KEY: expected the private key for sending\.dkim\.selector "s1".*found nothing$/m],
      ['a key file that is not there', DKIM, { DKIM_PRIVATE_KEY_FILE: path.join('/nonexistent', 'dkim.pem') }, /^environment: DKIM_PRIVATE_KEY_FILE: expected a readable private key file, found ENOENT/m],
      ['text that is not a key', DKIM, { DKIM_PRIVATE_KEY: rsaPem.slice(0, 200) }, /^environment: DKIM_PRIVATE_KEY: expected a PEM private key/m, rsaPem],
      ['an RSA key for the Ed25519 selector', { ...READY, sending: { dkim: { domain: 'example.org', selector: 's1', ed25519Selector: 'e1' } } }, { DKIM_PRIVATE_KEY: edPem, DKIM_ED25519_PRIVATE_KEY: rsaPem }, /^environment: DKIM_ED25519_PRIVATE_KEY: expected an Ed25519 private key, found a key of type rsa$/m, rsaPem],
      ['a key without sending.dkim', READY, { DKIM_PRIVATE_KEY: rsaPem }, /^almanac\.config\.json: sending\.dkim\.selector: expected the DKIM domain and selector/m, rsaPem],
    ];
    for (const [name, config, env, expected, secret] of cases) {
      it(`fails on ${name}, naming the setting and never the key`, async () => {
        const run = await runMain(['check', '--root', await site(config as Record<string, unknown>), '--now', NOW], { ...NO_KEYS, ...env });
        assert.equal(run.code, 1, run.stdout);
        assert.match(run.stderr, expected);
        if (secret) assert.ok(!run.stderr.includes(keyLine(secret)) && !run.stdout.includes(keyLine(secret)), 'no key material in the output');
      });
    }
  });
});
