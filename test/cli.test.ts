// The `almanac` binary as a user runs it, one case per command and per kind of ending: what it
// prints where, and its exit code (0 done, 1 a problem with the input, 2 wrong usage), never a
// stack trace. Everything else about these commands is tested in-process (*.unit.test.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { GOOD_GUIDE, GOOD_NEWS, NOW, PROJECT, almanac, tempSite, writeFiles } from './helpers/cli.ts';

const noStack = (text: string) => assert.doesNotMatch(text, /^\s+at /m, `no stack trace:\n${text}`);

describe('the almanac binary', () => {
  it('wrong usage: exit 2 with one line saying what is wrong', async () => {
    const root = await tempSite();
    const badNow = await almanac(['build', '--root', root, '--now', 'yesterday']);
    assert.equal(badNow.code, 2);
    assert.match(badNow.stderr, /^almanac: --now expects an ISO 8601 date-time/);
    noStack(badNow.stderr);
    const unknown = await almanac(['bulid']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'bulid'/);
  });

  it('--version prints the version of the package, outside a site too, and exits 0', async () => {
    const { version } = JSON.parse(await readFile(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = await almanac([flag], { cwd: path.parse(PROJECT).root });
      assert.deepEqual([run.code, run.stdout, run.stderr], [0, `${version}\n`, '']);
    }
  });

  it('build: exit 0 and a site; bad content: exit 1, one line per problem, and nothing written', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/guides/good/guide.md': GOOD_GUIDE, 'content/news/good.md': GOOD_NEWS });
    const built = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(built.code, 0, built.stderr);
    const home = await readFile(path.join(root, 'dist/index.html'), 'utf8');

    await writeFiles(root, { 'content/news/bad.md': GOOD_NEWS.replace('score: 5', 'score: high').replace('/story', '/other') });
    const failed = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr, 'content/news/bad.md: score: expected a whole number from 1 to 10, found "high"\n\n1 problem in 1 file; nothing was written.\n');
    assert.equal(await readFile(path.join(root, 'dist/index.html'), 'utf8'), home, 'the previous dist/ stays');
  });

  it('issue build prints the id on stdout; an issue that fails an email check prints none and exits 1', async () => {
    const root = await tempSite({ sample: true });
    const config = await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8');
    await writeFiles(root, { 'almanac.config.json': config });
    const ok = await almanac(['issue', 'build', 'sunday', '--date', '2026-04-12', '--root', root, '--now', NOW]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, '2026-04-12-sunday\n');

    const template = 'templates/email/pages/issue.mjml.hbs';
    const original = await readFile(path.join(PROJECT, template), 'utf8');
    await writeFiles(root, { [template]: original.replace('  </mj-body>', '    <mj-section><mj-column><mj-raw><script>alert(1)</script></mj-raw></mj-column></mj-section>\n  </mj-body>') });
    const refused = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', NOW]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /: no-script: expected no <script>, found <script>/);
    noStack(refused.stderr);
  });

  it('subscribers: add and list on stdout; a bad address exits 1', async () => {
    const root = await tempSite();
    const added = await almanac(['subscribers', 'add', 'ada@example.com', '--name', 'Ada', '--editions', 'sunday', '--root', root]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, 'Added ada@example.com (sunday)\n');
    const list = await almanac(['subscribers', 'list', '--root', root]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ada@example\.com\tAda\t/m);
    const bad = await almanac(['subscribers', 'add', 'ada@', '--root', root]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /email: expected an email address, found "ada@"/);
    noStack(bad.stderr);
  });

  it('guide new, publish and versions', async () => {
    const root = await tempSite();
    assert.equal((await almanac(['guide', 'new', 'tidal-power', '--root', root])).code, 0);
    const published = await almanac(['guide', 'publish', 'tidal-power', '--note', 'First edition', '--root', root, '--now', '2026-05-01T10:00:00Z']);
    assert.equal(published.code, 0, published.stderr);
    assert.equal(published.stdout, 'Published tidal-power v1 → content/guides/tidal-power/versions/v1.md\n');
    const versions = await almanac(['guide', 'versions', 'tidal-power', '--root', root]);
    assert.equal(versions.code, 0, versions.stderr);
    assert.match(versions.stdout, /^ {2}v1 {2}2026-05-01 10:00 UTC {2}live {2}First edition$/m);
  });
});
