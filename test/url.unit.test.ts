// Story keys: links that differ only in how they were pasted are the same story.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseUrl } from '../src/content/url.ts';

describe('normaliseUrl', () => {
  it('gives one key to the ways one link gets pasted', () => {
    const same = [
      'https://ai.meta.com/blog/introducing-muse-spark/',
      'http://ai.meta.com/blog/introducing-muse-spark',
      'HTTPS://AI.Meta.com/blog/introducing-muse-spark//',
      ' https://ai.meta.com:443/blog/introducing-muse-spark#comments ',
      'http://ai.meta.com:80/blog/introducing-muse-spark/?utm_source=x&utm_medium=email&fbclid=abc',
      'https://ai.meta.com/blog/introducing-muse-spark?UTM_Campaign=spring&gclid=1&ref_src=twsrc',
    ];
    for (const raw of same) assert.equal(normaliseUrl(raw), 'https://ai.meta.com/blog/introducing-muse-spark', raw);
  });

  it('keeps what tells links apart: path case, other parameters (sorted), ports, credentials', () => {
    assert.equal(normaliseUrl('https://example.com/A/b.html'), 'https://example.com/A/b.html');
    assert.equal(normaliseUrl('https://example.com/news?b=2&utm_source=x&a=1'), 'https://example.com/news?a=1&b=2');
    assert.equal(normaliseUrl('https://example.com/?id=7'), 'https://example.com/?id=7');
    assert.equal(normaliseUrl('https://example.com//?id=7'), 'https://example.com/?id=7');
    assert.equal(normaliseUrl('https://example.com:8080/x/'), 'https://example.com:8080/x');
    assert.equal(normaliseUrl('http://example.com:443/'), 'https://example.com');
    assert.equal(normaliseUrl('https://user:pw@example.com/x'), 'https://user:pw@example.com/x');
    assert.equal(normaliseUrl('https://[::1]:3000/a'), 'https://[::1]:3000/a');
    assert.equal(normaliseUrl('https://bücher.example/ü/?q=a b'), 'https://xn--bcher-kva.example/%C3%BC?q=a+b');
    assert.notEqual(normaliseUrl('https://example.com/a?x=1'), normaliseUrl('https://example.com/a?x=2'));
  });

  it('rejects what is not a URL', () => {
    assert.throws(() => normaliseUrl('not a url'));
  });
});
