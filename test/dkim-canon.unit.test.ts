// DKIM body canonicalisation run by run: whatever runs a message is cut into, in whatever order a
// run comes again (its canonical form reused), the body hash is the one RFC 6376's relaxed rules
// give for the whole body, and the signatures are those of the message as one piece.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dkimSignatures, type DkimKey } from '../src/mail/dkim-sign.ts';
import { MessageTemplate } from '../src/mail/message.ts';
import { TOKENS } from '../src/render/tokens.ts';

const RUNS = Number(process.env.PROPS_RUNS ?? 300);
const KEYS: DkimKey[] = [{ domain: 'example.org', selector: 'e1', key: generateKeyPairSync('ed25519').privateKey }];
const NOW = Date.UTC(2026, 3, 15);

/** RFC 6376 3.4.4, line by line, on a body with CRLF line ends. */
function referenceBody(body: string): string {
  const lines = body.split('\r\n').map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : lines.join('\r\n') + '\r\n';
}

const referenceHash = (body: string) => createHash('sha256').update(referenceBody(body), 'latin1').digest('base64');

/** The bh= of each signature of `message`. */
function bodyHashes(message: Buffer | Buffer[]): string[] {
  return [...dkimSignatures(message, KEYS, NOW).matchAll(/bh=([^;]+);/g)].map((m) => m[1]!);
}

const HEAD = 'From: a@example.org\r\nTo:  Reader\r\n  <r@example.com>\r\nSubject: a\t b\r\n\r\n';

/** Text made of what canonicalisation cares about: spaces, tabs, line ends, lone CRs, long lines. */
const bodyText = fc
  .array(fc.constantFrom('a', 'b=', ' ', '  ', '\t', '\r\n', '\r\n\r\n', '\r', '.', '\xe9', 'x'.repeat(90)), { maxLength: 40 })
  .map((pieces) => pieces.join(''));

/** `text` cut at the given places into runs. */
function cut(text: string, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => Math.floor(a * text.length)))].sort((x, y) => x - y);
  const runs: Buffer[] = [];
  let last = 0;
  for (const p of [...points, text.length]) {
    runs.push(Buffer.from(text.slice(last, p), 'latin1'));
    last = p;
  }
  return runs;
}

describe('DKIM relaxed body, run by run', () => {
  it('any cut of any body hashes as the whole body does by the RFC, and signs as the whole message', () => {
    fc.assert(
      fc.property(bodyText, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), (body, at) => {
        const message = HEAD + body;
        const runs = cut(message, at);
        assert.deepEqual(bodyHashes(runs), [referenceHash(body)]);
        assert.equal(dkimSignatures(runs, KEYS, NOW), dkimSignatures(Buffer.from(message, 'latin1'), KEYS, NOW));
      }),
      { numRuns: RUNS },
    );
  });

  it('fixed runs shared by many copies, each with its own values between them, hash as each copy by the RFC', () => {
    fc.assert(
      fc.property(fc.array(bodyText, { minLength: 2, maxLength: 5 }), fc.array(fc.array(bodyText, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 4 }), (fixedText, copies) => {
        // The same run objects in every copy, as an issue's template gives them; only the values differ.
        const fixed = [Buffer.from(HEAD + fixedText[0]!, 'latin1'), ...fixedText.slice(1).map((t) => Buffer.from(t, 'latin1'))];
        for (const values of copies) {
          const runs = fixed.flatMap((run, i) => (i === 0 ? [run] : [Buffer.from(values[i - 1]!, 'latin1'), run]));
          const body = Buffer.concat(runs).toString('latin1').slice(HEAD.length);
          assert.deepEqual(bodyHashes(runs), [referenceHash(body)]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a body with bare LF line ends is hashed as SMTP carries it, with CRLF', () => {
    fc.assert(
      fc.property(bodyText, fc.array(fc.constantFrom('\n', 'a\n', ' \n'), { minLength: 1, maxLength: 4 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), (body, lfs, at) => {
        const withLf = body + lfs.join('');
        const wire = withLf.replace(/\r?\n/g, '\r\n');
        assert.deepEqual(bodyHashes(cut(HEAD + withLf, at)), [referenceHash(wire)]);
      }),
      { numRuns: RUNS },
    );
  });

  it("an issue's copies, each reader's values filled in (spaces, tabs, long values), hash as the RFC says", () => {
    const reader = (value: string) => ({
      email: 'r@example.com',
      name: value,
      messageId: 'm@example.org',
      unsubscribeUrl: 'https://example.org/u',
      unsubscribeMailto: 'mailto:a@example.org',
      tokens: { unsubscribe: `https://example.org/u?${value}`, preferences: 'https://example.org/p', name: value },
    });
    fc.assert(
      fc.property(bodyText, fc.array(fc.string({ unit: fc.constantFrom('a', ' ', '\t', 'é', '  ', 'x'.repeat(80)), maxLength: 6 }), { minLength: 1, maxLength: 3 }), (intro, names) => {
        const template = MessageTemplate.compile({
          from: 'Almanac <a@example.org>',
          subject: 'S',
          html: `<p>Hello ${TOKENS.name},</p>\n<pre>${intro}</pre>\n<a href="${TOKENS.unsubscribe}">x</a>`,
          text: `Hello ${TOKENS.name},  \n${intro}\n\nUnsubscribe: ${TOKENS.unsubscribe}\n`,
          listId: 'A <almanac.example.org>',
          date: new Date(0),
          issueId: 'x',
        });
        for (const name of names) {
          const runs = template.runsOf(reader(name));
          const whole = Buffer.concat(runs).toString('latin1');
          assert.deepEqual(bodyHashes(runs), [referenceHash(whole.slice(whole.indexOf('\r\n\r\n') + 4))]);
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
