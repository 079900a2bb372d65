// MJML on its own thread: the same HTML as MJML on this one, the same problems when it refuses a
// document, and a command that warmed the thread still ends when its work is done.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compileMjml, MjmlFailure, warmMjml } from '../src/render/mjml-thread.ts';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = '<mjml><mj-body><mj-section><mj-column><mj-text color="#123456">Hello &amp; welcome</mj-text></mj-column></mj-section></mj-body></mjml>';
const BAD = '<mjml><mj-body><mj-section><mj-column><mj-text colour="red">x</mj-text></mj-column></mj-section></mj-body></mjml>';

test('the thread makes the same HTML as this thread, and reports the same problems', async () => {
  const here = await compileMjml(DOC);
  const hereFailure = await compileMjml(BAD).catch((err: unknown) => err);
  warmMjml();
  const there = await compileMjml(DOC);
  const thereFailure = await compileMjml(BAD).catch((err: unknown) => err);
  assert.ok(here.includes('Hello &amp; welcome') && here.includes('#123456'));
  assert.equal(there, here);
  assert.ok(hereFailure instanceof MjmlFailure && thereFailure instanceof MjmlFailure);
  assert.deepEqual(thereFailure.problems, hereFailure.problems);
  assert.equal(thereFailure.problems[0]?.tagName, 'mj-text');
  assert.match(thereFailure.problems[0]!.message, /colour/);
  // Several at once come back each to its own caller.
  const docs = ['one', 'two', 'three'].map((w) => DOC.replace('Hello', w));
  const many = await Promise.all(docs.map(compileMjml));
  many.forEach((html, i) => assert.ok(html.includes(['one', 'two', 'three'][i]!)));
});

test('a process that warmed the thread exits once its work is done, with or without using it', { timeout: 60_000 }, async () => {
  const url = JSON.stringify(new URL('../src/render/mjml-thread.ts', import.meta.url).href);
  for (const body of [`m.warmMjml();`, `m.warmMjml(); const html = await m.compileMjml(${JSON.stringify(DOC)}); console.log(html.length > 0);`]) {
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const m = await import(${url}); ${body}`], { cwd: PROJECT, timeout: 50_000 });
    assert.ok(Date.now() - started < 50_000);
    if (body.includes('compileMjml')) assert.equal(stdout.trim(), 'true');
  }
});
