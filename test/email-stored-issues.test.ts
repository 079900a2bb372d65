// An issue stored before the contrast check existed cannot be changed (it may have gone out): `check`
// names its faint text as a warning and passes, while a new build with that text is refused.
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { IssueStore } from '../src/store/issues.ts';
import { NOW, PROJECT, tempSite } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

it('check warns of, and does not fail on, faint text in an issue built before the contrast check', async () => {
  const root = await tempSite({ sample: true });
  await copyFile(path.join(PROJECT, 'almanac.config.json'), path.join(root, 'almanac.config.json'));
  const built = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', NOW]);
  assert.equal(built.code, 0, built.stderr);
  // As the templates wrote it before: "View in your browser" in the light scheme's grey in dark mode too.
  const store = new IssueStore(root);
  const stored = store.get('2026-04-15-midweek')!;
  const old = stored.html.replace(/\.muted \.web-link,\s*/, '');
  assert.notEqual(old, stored.html);
  store.save({ ...stored, html: old });

  const run = await almanac(['check', '--root', root, '--now', NOW], { env: { SPAMASSASSIN_PATH: '/nonexistent/spamassassin' } });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /warning: issue 2026-04-15-midweek: contrast: expected text contrast of at least 4\.5:1 in the dark scheme \(WCAG 1\.4\.3\), found "View in your browser" in <a\.web-link>: #5c5a55 on #151412, 2\.67:1/);
});
