// Per-reader slots exist only where the templates put them: text from content that spells a slot
// stays text, and each reader's values go in escaped for the part they land in.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { parse as parseHtml } from 'node-html-parser';
import { MessageTemplate } from '../src/mail/message.ts';
import { TOKENS, personaliseHtml, slotMarkers } from '../src/render/tokens.ts';
import { IssueStore } from '../src/store/issues.ts';
import { PROJECT, tempSite, writeFiles } from './helpers/cli.ts';
import { almanac } from './helpers/in-process.ts';
import { smtpSink } from './helpers/smtp.ts';

const SECRET = 'slots-secret-9c4e1a7b3d5f8e2c6a0b4d9f1e3c7a5b';

function compile(html: string, text: string): MessageTemplate {
  return MessageTemplate.compile({ from: 'Almanac <a@example.org>', subject: 'S', html, text, listId: 'A <almanac.example.org>', date: new Date(0), issueId: 'x' });
}

const reader = (name: string) => ({
  email: 'r@example.com',
  name,
  messageId: 'm@example.org',
  unsubscribeUrl: 'https://example.org/unsubscribe?token=SIGNED-U',
  unsubscribeMailto: 'mailto:a@example.org',
  tokens: { unsubscribe: 'https://example.org/unsubscribe?token=SIGNED-U', preferences: 'https://example.org/preferences?token=SIGNED-P', name },
});

describe('per-reader slots', () => {
  it('text that spells an old placeholder or a marker of another nonce is never filled', async () => {
    const foreign = slotMarkers('0'.repeat(32));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('{{unsubscribe_url}}', '{{preferences_url}}', '{{name}}', foreign.unsubscribe, foreign.name, 'almanac-slot-', 'text ', '<b>'), { maxLength: 8 }),
        async (pieces) => {
          const content = pieces.join('');
          const html = `<p>${content}</p><a href="${TOKENS.unsubscribe}">Unsubscribe</a>`;
          const text = `${content}\nUnsubscribe: ${TOKENS.unsubscribe}\n`;
          const mail = await simpleParser(compile(html, text).render(reader('Ann')));
          assert.equal((String(mail.html).match(/SIGNED-U/g) ?? []).length, 1);
          assert.equal((String(mail.text).match(/SIGNED-U/g) ?? []).length, 1);
          assert.ok(!String(mail.html).includes('SIGNED-P') && !String(mail.text).includes('SIGNED-P'));
          assert.ok(String(mail.text).startsWith(content));
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  it('escapes the name for HTML, strips control characters in the text part, and keeps it out of the headers', async () => {
    const name = '<img src=x onerror=alert(1)>"\'&\r\nBcc: victim@evil.example\u0007';
    const html = `<p title="${TOKENS.name}">Hello ${TOKENS.name}</p>`;
    const text = `Hello ${TOKENS.name}!\n`;
    const raw = compile(html, text).render(reader(name));
    const mail = await simpleParser(raw);
    const doc = parseHtml(String(mail.html));
    assert.equal(doc.querySelectorAll('img').length, 0, 'no element from the name');
    assert.equal(doc.querySelector('p')!.getAttribute('title'), name.replace(/[\u0000-\u001f]/g, ''));
    assert.equal(mail.text, `Hello ${name.replace(/[\u0000-\u001f]/g, '')}!\n`);
    assert.equal(mail.bcc, undefined);
    const headers = raw.toString('latin1').split('\r\n\r\n')[0]!;
    assert.ok(!/^Bcc:/im.test(headers));
    assert.deepEqual(mail.to && 'value' in mail.to ? mail.to.value.map((a) => a.address) : [], ['r@example.com']);
  });

  it('an issue stored by another run keeps its slots, and one stored before slots had a nonce keeps only the templates\' ones', async () => {
    const root = await tempSite();
    const store = new IssueStore(root);
    const issue = { id: '2026-04-15-midweek', number: 1, subject: 'S', preheader: 'P', builtAt: 0, scheduledAt: 0 } as unknown as Parameters<IssueStore['save']>[0]['issue'];
    store.save({ issue, html: `<a href="${TOKENS.unsubscribe}">U</a>`, text: `Unsubscribe: ${TOKENS.unsubscribe}\n` });
    // Another run: same files, another nonce.
    const { writeFile, readFile, rm } = await import('node:fs/promises');
    const dir = path.join(root, '.almanac/issues', issue.id);
    const other = slotMarkers('f'.repeat(32));
    await writeFile(path.join(dir, 'email.html'), `<p>{{unsubscribe_url}}</p><a href="${other.unsubscribe}">U</a>`);
    await writeFile(path.join(dir, 'slots.txt'), `${'f'.repeat(32)}\n`);
    assert.equal(store.get(issue.id)!.html, `<p>{{unsubscribe_url}}</p><a href="${TOKENS.unsubscribe}">U</a>`);
    // An issue stored before slots had a nonce.
    await rm(path.join(dir, 'slots.txt'));
    await writeFile(path.join(dir, 'email.html'), '<p>{{unsubscribe_url}}</p><a href="{{unsubscribe_url}}">U</a>');
    await writeFile(path.join(dir, 'email.txt'), 'Story {{unsubscribe_url}}\nUnsubscribe: {{unsubscribe_url}}\n');
    const legacy = store.get(issue.id)!;
    assert.equal(legacy.html, `<p>{{unsubscribe_url}}</p><a href="${TOKENS.unsubscribe}">U</a>`);
    assert.equal(legacy.text, `Story {{unsubscribe_url}}\nUnsubscribe: ${TOKENS.unsubscribe}\n`);
    assert.ok((await readFile(path.join(dir, 'issue.json'), 'utf8')).includes(issue.id));
  });

  it('personaliseHtml escapes what it fills in', () => {
    assert.equal(personaliseHtml(`<p>${TOKENS.name}</p>`, { name: '<b>&', unsubscribe: '', preferences: '' }), '<p>&#60;b&#62;&#38;</p>');
  });

  it('a news item whose URL, title, source and summary carry placeholders sends no reader\'s link or name anywhere else', async () => {
    const root = await tempSite();
    const config = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(PROJECT, 'almanac.config.json'), 'utf8'));
    await writeFiles(root, {
      'almanac.config.json': JSON.stringify(config),
      'content/news/evil.md': [
        '---',
        'title: "Hello {{name}} {{unsubscribe_url}}"',
        'url: "https://evil.example/steal?u={{unsubscribe_url}}&p={{preferences_url}}&n={{name}}"',
        'source: "Wire {{preferences_url}}"',
        'published: 2026-04-14',
        'score: 9',
        '---',
        'Summary {{unsubscribe_url}} and {{name}}.',
      ].join('\n'),
      'list.csv': 'email,name,editions\nann@example.com,Ann <b>Lee</b>,midweek\nbob@example.com,Bob,midweek\n',
    });
    assert.equal((await almanac(['subscribers', 'import', path.join(root, 'list.csv'), '--root', root])).code, 0);
    const built = await almanac(['issue', 'build', 'midweek', '--date', '2026-04-15', '--root', root, '--now', '2026-04-15T06:00:00Z']);
    assert.equal(built.code, 0, built.stderr);
    const sink = await smtpSink();
    try {
      const run = await almanac(['issue', 'send', '2026-04-15-midweek', '--root', root], { env: { SMTP_URL: sink.url, ALMANAC_SECRET: SECRET } });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(sink.messages.length, 2);
      for (const { raw } of sink.messages) {
        const mail = await simpleParser(raw);
        const html = String(mail.html);
        const text = String(mail.text);
        const doc = parseHtml(html);
        const evil = doc.querySelectorAll('a').filter((a) => (a.getAttribute('href') ?? '').startsWith('https://evil.example/'));
        assert.ok(evil.length > 0);
        for (const a of evil) {
          assert.equal(a.getAttribute('href'), 'https://evil.example/steal?u={{unsubscribe_url}}&p={{preferences_url}}&n={{name}}');
        }
        // Exactly the links the templates placed: one unsubscribe and one preferences link per part.
        assert.equal((html.match(/token=u\./g) ?? []).length, 1, 'one signed unsubscribe link in the HTML');
        assert.equal((html.match(/token=p\./g) ?? []).length, 1, 'one signed preferences link in the HTML');
        assert.equal((text.match(/token=u\./g) ?? []).length, 1);
        assert.equal((text.match(/token=p\./g) ?? []).length, 1);
        assert.match(text, /Hello \{\{name\}\} \{\{unsubscribe_url\}\}/);
        assert.match(text, /Summary \{\{unsubscribe_url\}\} and \{\{name\}\}\./);
        assert.ok(!/Ann|Bob/.test(text) && !/Ann|Bob/.test(html), 'the built-in templates place no name');
        assert.ok(!html.includes('almanac-slot-') && !text.includes('almanac-slot-'), 'no marker left over');
      }
    } finally {
      await sink.close();
    }
  });
});
