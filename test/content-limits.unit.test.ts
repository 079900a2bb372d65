// What content and environment can carry: bounded texts and lists, topic addresses that keep
// different topics apart, and a signing secret that is really random.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, ContentError } from '../src/content/problems.ts';
import { guideSchema } from '../src/content/guide-schema.ts';
import { newsSchema } from '../src/content/news-schema.ts';
import { validate } from '../src/content/validate.ts';
import { slugify, topicKey } from '../src/content/slug.ts';
import { secretFromEnv } from '../src/mail/signing.ts';
import { GOOD_GUIDE, GOOD_NEWS, NOW, snapshot, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';

const NEWS = { title: 'T', url: 'https://example.com/a', source: 'S', published: '2026-06-01', score: 5 };
const GUIDE = { title: 'T', level: 'beginner', topics: ['A'], tldr: 'x', takeaways: ['y'] };

function secretProblem(value: string): string | undefined {
  try {
    secretFromEnv({ ALMANAC_SECRET: value });
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ConfigError, 'a configuration problem, not content');
    return err.message;
  }
}

describe('signing secret', () => {
  it('refuses whitespace, short and repetitive secrets, says how to make one, and never shows the value', () => {
    for (const weak of [' '.repeat(16), ' '.repeat(40), 'a'.repeat(64), 'ab'.repeat(32), 'abcdefgh'.repeat(8), 'short-secret-0123', '0'.repeat(63) + '1']) {
      const message = secretProblem(weak);
      assert.ok(message, `refused: ${JSON.stringify(weak)}`);
      assert.match(message, /^environment: ALMANAC_SECRET: expected a random secret of at least 32 characters .*openssl rand -hex 32/);
      if (weak.trim()) assert.ok(!message.includes(weak), 'the value is not shown');
    }
    assert.match(secretProblem(' '.repeat(16))!, /found only whitespace/);
    assert.match(secretProblem('')!, /found nothing$/);
  });

  it('accepts what openssl rand -hex 32 and -base64 32 make', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        assert.equal(secretProblem(Buffer.from(bytes).toString('hex')), undefined);
        assert.equal(secretProblem(Buffer.from(bytes).toString('base64')), undefined);
      }),
      { numRuns: 200, seed: 11 },
    );
  });
});

describe('topic slugs', () => {
  it('keeps C, C++ and C# apart, and a name without Latin letters gets an address of its own', () => {
    assert.deepEqual(['C', 'C++', 'C#', 'F#'].map(slugify), ['c', 'c-plus-plus', 'c-sharp', 'f-sharp']);
    assert.equal(slugify('Muse Spark'), slugify('muse spark'));
    assert.match(slugify('日本語'), /^t-[0-9a-f]{10}$/);
    assert.notEqual(slugify('日本語'), slugify('中文'));
  });

  it('gives every name a non-empty URL-safe slug, the same for names that are the same topic', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => topicKey(s) !== ''), (name) => {
        const slug = slugify(name);
        assert.match(slug, /^[a-z0-9]+(-[a-z0-9]+)*$/);
        assert.equal(slugify(` ${name}\t`), slug, 'surrounding space is not part of the topic');
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('builds separate pages for C, C++ and C#, and refuses two topics that would share one, naming both files', async () => {
    const root = await tempSite();
    const news = (topic: string, n: number) =>
      GOOD_NEWS.replace('A Good Story', `Story ${n}`).replace('/story', `/story-${n}`).replace('topics: [Testing]', `topics: ["${topic}"]`);
    await writeFiles(root, {
      'content/guides/good/guide.md': GOOD_GUIDE,
      'content/news/c.md': news('C', 1),
      'content/news/cpp.md': news('C++', 2),
      'content/news/cs.md': news('C#', 3),
    });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 0, run.stderr);
    const out = await snapshot(path.join(root, 'dist'));
    for (const slug of ['c', 'c-plus-plus', 'c-sharp']) assert.ok(out.has(`topics/${slug}/index.html`), slug);
    const before = out;
    await writeFiles(root, { 'content/news/cdot.md': news('C.', 4) });
    const clash = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /^content\/news\/(c|cdot)\.md: topics: expected a topic whose address differs from "(C|C\.)" in content\/news\/(c|cdot)\.md \(both would be \/topics\/c\/\); rename one of them, found "(C|C\.)"$/m);
    assert.deepEqual(await snapshot(path.join(root, 'dist')), before);
  });
});

describe('content limits', () => {
  it('refuses an oversized text or list in every field, with the limit in the message', () => {
    const cases: [object, typeof newsSchema | typeof guideSchema, RegExp][] = [
      [{ ...NEWS, title: 'x'.repeat(501) }, newsSchema, /^f: title: expected a title \(text\) of at most 500 characters, found a text of 501 characters$/],
      [{ ...NEWS, source: 'x'.repeat(101) }, newsSchema, /^f: source: expected .* of at most 100 characters/],
      [{ ...NEWS, url: `https://example.com/${'a'.repeat(2100)}` }, newsSchema, /^f: url: expected an absolute http\(s\) URL of at most 2,048 characters/],
      [{ ...NEWS, topics: Array.from({ length: 200_000 }, (_, i) => `t${i}`) }, newsSchema, /^f: topics: expected a list of topics of at most 20 entries, found a list of 200000$/],
      [{ ...GUIDE, tldr: 'x'.repeat(5001) }, guideSchema, /^f: tldr: expected a TL;DR \(text\) of at most 5,000 characters/],
      [{ ...GUIDE, takeaways: Array(51).fill('t') }, guideSchema, /^f: takeaways: expected .* of at most 50 entries/],
      [{ ...GUIDE, topics: ['x'.repeat(101)] }, guideSchema, /^f: topics\[0\]: expected a topic name \(text\) of at most 100 characters/],
      [{ ...GUIDE, faq: [{ q: 'q', a: 'x'.repeat(5001) }] }, guideSchema, /^f: faq\[0\]\.a: expected an answer \(text\) of at most 5,000 characters/],
      [{ ...GUIDE, timeline: Array(201).fill({ date: '2026', event: 'e' }) }, guideSchema, /^f: timeline: expected .* of at most 200 entries/],
    ];
    for (const [data, schema, pattern] of cases) {
      const result = validate(schema as typeof newsSchema, data, 'f');
      assert.ok(!result.value);
      assert.match(new ContentError(result.problems).message.split('\n')[0]!, pattern);
    }
  });

  it('refuses a 50,000-character summary, naming the file and the limit', async () => {
    const root = await tempSite();
    await writeFiles(root, { 'content/news/long.md': `${GOOD_NEWS}${'word '.repeat(10_000)}\n` });
    const run = await almanac(['build', '--root', root, '--now', NOW]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^content\/news\/long\.md: \(body\): expected a summary of at most 20,000 characters, found one of 50,0\d\d$/m);
  });
});
