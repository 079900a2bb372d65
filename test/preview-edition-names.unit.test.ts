// The preview's next issue of an edition whose name is also a property every object has.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { Drafts } from '../src/server/preview-drafts.ts';
import { NOW, PROJECT, tempSite } from './helpers/cli.ts';

it('shows the next issue of an edition named constructor, as of any other name', async () => {
  const root = await tempSite({ sample: true });
  const config = JSON.parse(await readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
  config.editions = { constructor: { cron: '0 9 * * 1' } };
  await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify(config));
  const drafts = new Drafts(root, () => Date.parse(NOW));
  await drafts.reload();
  assert.equal(drafts.problems, undefined);
  const viewed = await drafts.issue('constructor');
  assert.ok(viewed);
  const issue = viewed.issue as { problems?: unknown[]; issue?: { edition: string } };
  assert.ok(issue.problems !== undefined || issue.issue?.edition === 'constructor', `not an issue: ${typeof viewed.issue}`);
});
