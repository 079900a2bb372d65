// Property-based: random sequences of what operators and readers do to the list — add, remove,
// re-subscribe, import, bounce, sign up through the form, click confirmation and unsubscribe links
// old and new — against a real SQLite file and real HTTP to the server's app, with confirmation
// mail through a real SMTP server on loopback. After every step:
//   - ids are never reused;
//   - an address that unsubscribed or bounced becomes active only by an explicit re-subscription
//     (`add --resubscribe`, or its reader confirming a sign-up made after it left);
//   - a link acts on the reader it was made for or on nobody; a confirmation works at most once,
//     and only while its sign-up waits; an unsubscribe link works for as long as its reader is on
//     the list (even after a re-subscription), and never for anyone else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import type { Config } from '../src/content/config-schema.ts';
import { personaliser } from '../src/mail/send-job.ts';
import { importCsv } from '../src/store/import.ts';
import { ConsentError, SqliteSubscribers, hasLeft, type SubscriberStatus } from '../src/store/subscribers.ts';
import { until } from './helpers/cli.ts';
import { readerServer } from './helpers/confirmations.ts';
import type { SmtpSink } from './helpers/smtp.ts';

const SECRET = 'property-secret-0123456789abcdef';
const WHO = fc.integer({ min: 0, max: 2 });

type Step =
  | { op: 'add'; who: number; upper: boolean }
  | { op: 'resubscribe'; who: number }
  | { op: 'remove'; who: number }
  | { op: 'bounce'; who: number }
  | { op: 'import'; who: number[] }
  | { op: 'signUp'; who: number }
  | { op: 'issue'; who: number }
  | { op: 'confirm'; link: number }
  | { op: 'unsubscribe'; link: number };

// Links are clicked more often than they are made, so that old links meet later states.
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('add' as const), who: WHO, upper: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('resubscribe' as const), who: WHO }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), who: WHO }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('bounce' as const), who: WHO }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('import' as const), who: fc.uniqueArray(WHO, { minLength: 1, maxLength: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('signUp' as const), who: WHO }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('issue' as const), who: WHO }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('confirm' as const), link: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('unsubscribe' as const), link: fc.nat(20) }), weight: 3 },
);

interface Row {
  id: number;
  email: string;
  status: SubscriberStatus;
}

interface Link {
  path: string;
  id: number;
  email: string;
  /** The step at which it was made. */
  at: number;
  used?: boolean;
}

describe('subscriber operations (property-based)', () => {
  let base: string;
  let sink: SmtpSink;
  let store: SqliteSubscribers;
  let config: Config;
  let clock = Date.parse('2026-06-20T09:00:00Z');

  let stop: () => Promise<void>;

  before(async () => {
    ({ base, sink, store, config, stop } = await readerServer({ secret: SECRET, clock: () => clock, subscribeLimit: { max: 1_000_000, windowMs: 1 } }));
  });
  after(() => stop());

  it('ids are never reused, consent is the reader’s, links act only on their own reader, confirmations work once', async () => {
    const everIds = new Set<number>();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        run++;
        const emails = [0, 1, 2].map((i) => `r${run}-${'abc'[i]}@example.com`);
        const confirms: Link[] = [];
        const unsubscribes: Link[] = [];
        /** When each row last left (unsubscribed or bounced), by step. */
        const leftAt = new Map<number, number>();
        const snapshot = () => new Map<number, Row>([...store.list()].filter((s) => emails.includes(s.email.toLowerCase())).map((s) => [s.id, { id: s.id, email: s.email.toLowerCase(), status: s.status }]));

        for (const [at, s] of steps.entries()) {
          clock += 60_000;
          const before = snapshot();
          const maxBefore = Math.max(0, ...everIds);
          /** Rows this step may change, and whether it is an explicit re-subscription of them. */
          let mayChange: 'any' | number[] = 'any';
          let resubscribes: number[] = [];
          let linkUsed: { link: Link; ok: boolean; kind: 'confirm' | 'unsubscribe' } | undefined;

          switch (s.op) {
            case 'add': {
              const email = s.upper ? emails[s.who]!.toUpperCase() : emails[s.who]!;
              const existing = store.find(email);
              try {
                store.upsert({ email, status: 'active' }, clock);
                assert.ok(!existing || !hasLeft(existing.status), 'add of an address that left must be refused');
              } catch (err) {
                assert.ok(err instanceof ConsentError, String(err));
                assert.ok(existing && hasLeft(existing.status));
                mayChange = [];
              }
              break;
            }
            case 'resubscribe': {
              const existing = store.find(emails[s.who]!);
              store.upsert({ email: emails[s.who]!, status: 'active', resubscribedBy: 'property test' }, clock);
              if (existing) resubscribes = [existing.id];
              break;
            }
            case 'remove':
              store.remove(emails[s.who]!);
              break;
            case 'bounce': {
              const existing = store.find(emails[s.who]!);
              if (existing) store.setStatus(existing.id, 'bounced', clock);
              break;
            }
            case 'import':
              importCsv(store, Buffer.from(`email\n${s.who.map((i) => emails[i]).join('\n')}\n`), 'list.csv', clock, ['midweek', 'sunday']);
              break;
            case 'signUp': {
              const sent = sink.messages.length;
              const res = await fetch(`${base}/subscribe`, { method: 'POST', body: `email=${encodeURIComponent(emails[s.who]!)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(5_000) });
              assert.equal(res.status, 200);
              const row = before.get(store.find(emails[s.who]!)!.id);
              if (row?.status === 'active') break; // nothing is mailed to an active reader
              await until(() => sink.messages.length > sent, 5_000);
              const mail = await simpleParser(sink.messages[sent]!.raw);
              const url = new URL(/https:\/\/\S+\/confirm\?token=\S+/.exec(mail.text ?? '')![0]);
              confirms.push({ path: `${url.pathname}${url.search}`, id: store.find(emails[s.who]!)!.id, email: emails[s.who]!, at });
              break;
            }
            case 'issue': {
              const reader = store.find(emails[s.who]!);
              if (!reader) break;
              const url = new URL(personaliser(config, SECRET, 'issue')({ subscriberId: reader.id, name: reader.name, tokenKey: reader.tokenKey, unsubscribeKey: reader.unsubscribeKey }).unsubscribeUrl);
              unsubscribes.push({ path: `${url.pathname}${url.search}`, id: reader.id, email: reader.email.toLowerCase(), at });
              mayChange = [];
              break;
            }
            case 'confirm': {
              const link = confirms[s.link % Math.max(1, confirms.length)];
              if (!link) break;
              // The reader's click on the button of the page the link opens (opening it changes nothing).
              const res = await fetch(`${base}${link.path}`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
              await res.arrayBuffer();
              linkUsed = { link, ok: res.status === 200, kind: 'confirm' };
              mayChange = linkUsed.ok ? [link.id] : [];
              break;
            }
            case 'unsubscribe': {
              const link = unsubscribes[s.link % Math.max(1, unsubscribes.length)];
              if (!link) break;
              const res = await fetch(`${base}${link.path}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(5_000) });
              await res.arrayBuffer();
              linkUsed = { link, ok: res.status === 200, kind: 'unsubscribe' };
              mayChange = linkUsed.ok ? [link.id] : [];
              break;
            }
          }

          const afterRows = snapshot();
          for (const row of afterRows.values()) {
            // Ids: a row is the one it was, or new with an id above every id ever used.
            if (!before.has(row.id)) assert.ok(row.id > maxBefore && !everIds.has(row.id), `id ${row.id} reused (step ${at}: ${JSON.stringify(s)})`);
            else assert.equal(before.get(row.id)!.email, row.email);
            everIds.add(row.id);
          }
          for (const [id, row] of afterRows) {
            const was = before.get(id);
            if (!was || was.status === row.status) continue;
            if (mayChange !== 'any') assert.ok(mayChange.includes(id), `step ${at} (${JSON.stringify(s)}) changed ${row.email}`);
            if (hasLeft(row.status)) leftAt.set(id, at);
            if (hasLeft(was.status) && row.status === 'active') {
              // Only an explicit re-subscription: the operator's, or the reader's own confirmation of a sign-up made after leaving.
              const byReader = linkUsed?.kind === 'confirm' && linkUsed.ok && linkUsed.link.id === id && linkUsed.link.at > (leftAt.get(id) ?? -1);
              assert.ok(resubscribes.includes(id) || byReader, `step ${at} (${JSON.stringify(s)}) made ${row.email} active again`);
            }
          }
          if (linkUsed) {
            const { link, ok, kind } = linkUsed;
            const now = afterRows.get(link.id);
            if (ok) {
              assert.ok(now && now.email === link.email, 'a link acted on its own reader');
              assert.equal(now.status, kind === 'confirm' ? 'active' : 'unsubscribed');
            }
            if (kind === 'confirm') {
              if (ok) {
                assert.ok(!link.used, `a confirmation link worked twice (step ${at})`);
                assert.notEqual(before.get(link.id)!.status, 'active', 'a confirmation acts only on a waiting sign-up');
              }
              if (ok) link.used = true;
            } else {
              // An unsubscribe link works for as long as its reader is on the list.
              assert.equal(ok, before.has(link.id), `unsubscribe link from step ${link.at} at step ${at}`);
            }
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});
