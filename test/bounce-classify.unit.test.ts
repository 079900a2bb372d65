// The classifier on DSNs and ARF reports written from RFC 3464's and RFC 5965's examples, with the
// return-path tokens of one reader filled in: hard and soft bounces, a complaint, a mail to the mailto
// unsubscribe address; and what must be ignored with its reason: foreign, unsigned, malformed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { classify } from '../src/mail/bounce-classify.ts';
import { returnAddress } from '../src/mail/signing.ts';

const SECRET = 'test-secret-0123456789abcdef-6f1c9a2e';
const ISSUE = '2026-04-15-midweek';
const READER = 41;
const DOMAIN = 'bounces.example.org';

async function fixture(name: string, reader = READER, secret = SECRET): Promise<Buffer> {
  const text = await readFile(new URL(`./fixtures/bounces/${name}`, import.meta.url), 'latin1');
  const filled = text
    .replaceAll('%RETURN%', returnAddress(secret, DOMAIN, { purpose: 'bounce', subscriber: reader, issueId: ISSUE })!)
    .replaceAll('%UNSUB%', returnAddress(secret, DOMAIN, { purpose: 'unsubscribe', subscriber: reader, issueId: ISSUE })!);
  return Buffer.from(filled.replace(/\r?\n/g, '\r\n'), 'latin1');
}

describe('bounce classifier', () => {
  it('a DSN with a 5.x.x status is a hard bounce of the reader and issue its return path names', async () => {
    const v = await classify(await fixture('dsn-hard.eml'), SECRET);
    assert.deepEqual(v, {
      kind: 'hard', subscriber: READER, issueId: ISSUE, code: '5.1.1',
      text: 'SMTP; 550 5.1.1 <reader@example.com>... User unknown', reportId: 'message-id:<202604150703.4F1A2B3C@mx.example.net>',
    });
  });

  it('a DSN with a 4.x.x status is a soft bounce', async () => {
    const v = await classify(await fixture('dsn-soft.eml'), SECRET);
    assert.equal(v.kind, 'soft');
    assert.equal('code' in v && v.code, '4.2.2');
    assert.equal(v.subscriber, READER);
  });

  it('an ARF abuse report is a complaint, the reader found in the original message inside it', async () => {
    const report = (await fixture('arf-abuse.eml')).toString('latin1');
    // Delivered to a feedback address of its own: only the original message names the reader.
    const elsewhere = Buffer.from(report.replace(/^Delivered-To: .*\r\n/m, '').replace(/^To: <bounces\+[^>]+>\r$/m, 'To: <fbl@example.org>\r'), 'latin1');
    for (const raw of [Buffer.from(report, 'latin1'), elsewhere]) {
      const v = await classify(raw, SECRET);
      assert.equal(v.kind, 'complaint');
      assert.equal(v.subscriber, READER);
      assert.equal(v.issueId, ISSUE);
    }
  });

  it('a mail to a reader\'s own mailto unsubscribe address unsubscribes that reader', async () => {
    const v = await classify(await fixture('mailto-unsubscribe.eml'), SECRET);
    assert.equal(v.kind, 'unsubscribe');
    assert.equal(v.subscriber, READER);
  });

  it('an automatic reply to the unsubscribe address, or any mail to the return path that is no report, is ignored', async () => {
    const unsub = (await fixture('mailto-unsubscribe.eml')).toString('latin1');
    const auto = await classify(Buffer.from(unsub.replace('Subject: unsubscribe', 'Subject: Out of office\r\nAuto-Submitted: auto-replied'), 'latin1'), SECRET);
    assert.equal(auto.kind, 'ignored');
    assert.match(auto.kind === 'ignored' ? auto.reason : '', /automatic message/);
    const returnPath = returnAddress(SECRET, DOMAIN, { purpose: 'bounce', subscriber: READER, issueId: ISSUE })!;
    const reply = await classify(Buffer.from(unsub.replace(/bounces\+u[^@\s]+@[a-z.]+/g, returnPath), 'latin1'), SECRET);
    assert.equal(reply.kind, 'ignored');
    assert.match(reply.kind === 'ignored' ? reply.reason : '', /neither a delivery-status notification nor a feedback report/);
    const forged = await classify(Buffer.from(unsub.replace(/bounces\+u/g, 'bounces+b'), 'latin1'), SECRET);
    assert.equal(forged.kind, 'ignored', 'a token whose purpose letter is changed no longer verifies');
  });

  it('foreign, unsigned, other-secret and malformed reports are ignored with their reason', async () => {
    const cases: [Buffer, RegExp][] = [
      [await fixture('foreign-dsn.eml'), /did not sign/],
      [await fixture('dsn-hard.eml', READER, 'another-secret-0123456789abcdef-zyxw'), /did not sign/],
      [Buffer.from('From: someone@example.com\r\nTo: almanac@example.org\r\nSubject: unsubscribe\r\n\r\nplease'), /not addressed to a return path/],
      [Buffer.from('Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nno status part\r\n--x--\r\n'), /without its message\/delivery-status part/],
      [Buffer.alloc(0), /not addressed/],
    ];
    for (const [raw, reason] of cases) {
      const v = await classify(raw, SECRET);
      assert.equal(v.kind, 'ignored');
      assert.match(v.kind === 'ignored' ? v.reason : '', reason);
      assert.ok(v.reportId, 'an id to record it under');
    }
  });

  it('a Message-ID of any length is kept as a report id of bounded size, still the same for the same id', async () => {
    const long = `<${'x'.repeat(100_000)}@mx.example.net>`;
    const raw = (await fixture('dsn-hard.eml')).toString('latin1').replace(/^Message-Id: .*$/m, `Message-Id: ${long}`);
    const first = await classify(Buffer.from(raw, 'latin1'), SECRET);
    assert.equal(first.kind, 'hard');
    assert.ok(first.reportId.length <= 300, `a report id of ${first.reportId.length} characters`);
    const again = await classify(Buffer.from(raw.replace('Subject: Returned mail', 'Subject: Returned mail again'), 'latin1'), SECRET);
    assert.equal(again.reportId, first.reportId);
    const other = await classify(Buffer.from(raw.replace(long, `<y${long.slice(2)}`), 'latin1'), SECRET);
    assert.notEqual(other.reportId, first.reportId);
  });

  it('text taken from a report (which anyone can send) carries no C1 control or bidi override to the terminal it is printed on', async () => {
    const arf = (await fixture('arf-abuse.eml')).toString('utf8');
    const raw = Buffer.from(arf.replace('Feedback-Type: abuse', 'Feedback-Type: \u009b31mfraud\u202e\u0085x'), 'utf8');
    const v = await classify(raw, SECRET);
    assert.equal(v.kind, 'ignored');
    assert.equal(v.kind === 'ignored' && v.reason, 'a feedback report of type "31mfraud x", not a complaint');
  });

  it('a reason that quotes the report is as short as any event text', async () => {
    const unsub = (await fixture('mailto-unsubscribe.eml')).toString('latin1');
    const v = await classify(Buffer.from(unsub.replace('Subject: unsubscribe', `Subject: Out of office\r\nAuto-Submitted: auto-replied ${'x'.repeat(50_000)}`), 'latin1'), SECRET);
    assert.equal(v.kind, 'ignored');
    assert.match(v.kind === 'ignored' ? v.reason : '', /^an automatic message \(Auto-Submitted: auto-replied x+…$/);
    assert.equal(v.kind === 'ignored' && v.reason.length, 500);
  });

  it('a report of a delivery that succeeded changes nothing', async () => {
    const ok = (await fixture('dsn-hard.eml')).toString('latin1').replace('Action: failed', 'Action: delivered').replace('Status: 5.1.1', 'Status: 2.0.0');
    const v = await classify(Buffer.from(ok, 'latin1'), SECRET);
    assert.equal(v.kind, 'ignored');
  });

  it('a delay notice is no bounce: the server is still trying, the message may yet arrive', async () => {
    const v = await classify(await fixture('dsn-delayed.eml'), SECRET);
    assert.equal(v.kind, 'ignored');
    assert.match(v.kind === 'ignored' ? v.reason : '', /delay notice/);
  });

  it('arbitrary bytes, and fixtures with bytes changed, never throw and name no reader unless signed', async () => {
    const fixtures = await Promise.all(['dsn-hard.eml', 'dsn-soft.eml', 'arf-abuse.eml', 'mailto-unsubscribe.eml'].map((f) => fixture(f)));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
          fc.tuple(fc.constantFrom(...fixtures), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 40 })).map(([f, at, bytes]) => {
            const copy = Buffer.from(f);
            copy.set(bytes.subarray(0, Math.max(0, copy.length - (at % copy.length))), at % copy.length);
            return copy;
          }),
        ),
        async (raw) => {
          const v = await classify(raw, SECRET);
          // A verdict that acts names the reader the signed token names, and no other.
          if (v.kind !== 'ignored') assert.equal(v.subscriber, READER);
          else assert.ok(v.reason.length > 0);
        },
      ),
      { numRuns: Number(process.env.PROPS_RUNS ?? 200) },
    );
  });
});
