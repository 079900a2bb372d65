// Properties of the issue pipeline, from generated content to the checked MIME message. Shared by
// test/issue-props.unit.test.ts (a few hundred seeded cases) and scripts/props.ts (deeper runs).
//
// Every generated title carries a tag, ⟨n⟩, that nothing else in the content can contain, so "the
// story appears exactly once" is a count of that tag in each part. Titles hold no ASCII letters or
// digits besides it, so no two stories are near-identical headlines that the composer would merge:
// merging has its own tests; here every item in the window is its own story.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { parse } from 'node-html-parser';
import { buildCatalog } from '../../src/compose/catalog.ts';
import type { IssueStory } from '../../src/compose/issue.ts';
import { PREHEADER_MAX, SUBJECT_MAX, preheaderText, subjectLine } from '../../src/compose/subject.ts';
import { issueWindow, slotOn, type Edition } from '../../src/compose/slots.ts';
import { loadSite } from '../../src/content/load.ts';
import { publishGuides } from '../../src/content/publish.ts';
import { HTML_ERROR_BYTES } from '../../src/mail/checks.ts';
import { compileIssueMessage } from '../../src/mail/message.ts';
import { prepareIssue } from '../../src/issue/prepare.ts';
import { readIssueNotes } from '../../src/content/issue-notes.ts';
import { PREHEADER_WIDTH, preheaderPad } from '../../src/render/email.ts';
import { TemplateSet } from '../../src/render/templates.ts';

// --- text ------------------------------------------------------------------------------------------

/** Characters of hostile but valid text: no ASCII letters or digits (see above), no ⟨ ⟩. */
const TEXT_UNITS: fc.Arbitrary<string>[] = [
  fc.constantFrom(' ', ' ', ' ', '&', '<', '>', '"', "'", '`', '*', '_', '#', '[', ']', '(', ')', '!', '—', '…', ':', '/', '\\', '{', '}', '|', '=', '.', ',', '-'),
  fc.constantFrom('é', 'ß', 'ø', 'ñ', 'Ж', 'щ', 'λ', 'Ω', 'ç'),
  fc.constantFrom('😀', '🚀', '👩‍💻', '🇩🇪', '❤️', '👍🏽'),
  fc.constantFrom('e\u0301', 'a\u0308', 'n\u0303\u0323', '\u0301'),
  fc.constantFrom('ש', 'ל', 'ו', 'م', 'ر', 'ح', 'ب', 'ا', '\u200f', '\u202b', '\u202c'),
  fc.constantFrom('中', '文', '日', '本', '語', '한', '국'),
  fc.constantFrom('\u00a0', '\u200b', '\u2009'),
];
const textUnit = fc.oneof(...TEXT_UNITS.map((arbitrary) => ({ arbitrary, weight: 1 })), { arbitrary: TEXT_UNITS[1]!, weight: 4 }, { arbitrary: fc.constant(' '), weight: 3 });

/** Units with ASCII letters and digits too, for text that is not a story's title. */
const richUnit = fc.oneof(textUnit, fc.constantFrom('a', 'Z', 'q', '7', 'k', 'Bcc:', 'http://x', '{{', '}}', '&amp;', '<b>', '=?utf-8?Q?x?='));

/** 1–max characters with something visible in them; a long word now and then. */
function hostileText(max: number, unit: fc.Arbitrary<string> = textUnit): fc.Arbitrary<string> {
  const longWord = fc.integer({ min: 40, max: Math.max(40, max) }).chain((n) => fc.string({ unit: TEXT_UNITS[1]!, minLength: n, maxLength: n }));
  return fc
    .oneof(
      { arbitrary: fc.string({ unit, minLength: 1, maxLength: max }), weight: 2 },
      // Lengths spread evenly up to the maximum, not only the short strings fast-check favours.
      { arbitrary: fc.integer({ min: 1, max }).chain((n) => fc.string({ unit, minLength: n, maxLength: n })), weight: 3 },
      { arbitrary: longWord, weight: 1 },
    )
    .map((s) => [...s].slice(0, max).join(''))
    .filter((s) => /[^\s\u200b\u200f\u202b\u202c\u0301]/u.test(s) && s.trim() === s && !/^[-*#>=+_`\s]/.test(s));
}

/** Markdown for a summary: the hostile text plus ASCII prose, links and emphasis. */
const summaryText = fc
  .array(
    fc.oneof(
      hostileText(80),
      fc.constantFrom('The model ships today.', 'A & B <c> "d"', '**bold** and _em_', '[a link](https://example.com/a?b=1&c=2)', 'x < y > z', 'Line\nbreak'),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => [...parts.join(' ')].slice(0, 400).join('').trim())
  .filter((s) => s.length > 0 && !/^[-*#>=+_`]/.test(s));

// --- content ---------------------------------------------------------------------------------------

const ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham', 'Europe/Berlin'] as const;
/** Wednesdays and Sundays, several of them next to a DST change in one of the zones. */
const DATES: Record<Edition, string[]> = {
  midweek: ['2026-03-04', '2026-03-11', '2026-03-25', '2026-04-01', '2026-04-08', '2026-09-30', '2026-10-28', '2026-11-04'],
  sunday: ['2026-03-08', '2026-03-29', '2026-04-05', '2026-04-12', '2026-09-27', '2026-10-25', '2026-11-01', '2026-12-27'],
};
const TOPICS = ['Meta', 'Open models', 'R&D', 'Ünïcode', 'AI <safety>', 'Policy & law', 'Chips', 'عربي', '中文', 'Ελληνικά'];

const STAND_IN_CARD = Buffer.from('a card');

export interface GeneratedItem {
  title: string;
  /** Where the tag sits in the title: its index in code points. */
  at: number;
  source: string;
  summary: string;
  score: number;
  /** Seconds after the window opens (1 … 250,000: every window here is at least 70 hours long). */
  offset: number;
  topic: string;
}

export interface GeneratedGuide {
  title: string;
  tldr: string;
  takeaway: string;
  level: 'beginner' | 'intermediate' | 'advanced';
  topic: string;
  note: string;
  /** Published this many seconds after the window opens (negative: before it). */
  offset: number;
}

export interface GeneratedSite {
  timezone: (typeof ZONES)[number];
  edition: Edition;
  dateIndex: number;
  title: string;
  label: string;
  maxItems: number;
  items: GeneratedItem[];
  outside: number;
  guides: GeneratedGuide[];
  /** The editor's notes file: items (by index) pinned, in order, and dropped, guides (by index) to feature, and an intro. */
  notes?: { pin: number[]; drop: number[]; guides: number[]; intro: string };
}

const item: fc.Arbitrary<Omit<GeneratedItem, 'offset'>> = fc.record({
  title: hostileText(400),
  at: fc.nat(),
  source: hostileText(60, richUnit),
  summary: summaryText,
  score: fc.integer({ min: 1, max: 10 }),
  topic: fc.constantFrom(...TOPICS),
});

const guide: fc.Arbitrary<GeneratedGuide> = fc.record({
  title: hostileText(120, richUnit),
  tldr: hostileText(300, richUnit),
  takeaway: hostileText(100, richUnit),
  level: fc.constantFrom('beginner', 'intermediate', 'advanced'),
  topic: fc.constantFrom(...TOPICS),
  note: hostileText(80, richUnit),
  offset: fc.integer({ min: -900_000, max: 250_000 }),
});

export const generatedSite: fc.Arbitrary<GeneratedSite> = fc
  .record({
    timezone: fc.constantFrom(...ZONES),
    edition: fc.constantFrom<Edition>('midweek', 'sunday'),
    dateIndex: fc.nat({ max: 7 }),
    title: hostileText(40, richUnit),
    label: hostileText(20, richUnit),
    maxItems: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(40)),
    items: fc.oneof(fc.array(item, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 40 }).chain((n) => fc.array(item, { minLength: n, maxLength: n }))),
    offsets: fc.uniqueArray(fc.integer({ min: 1, max: 250_000 }), { minLength: 40, maxLength: 40 }),
    outside: fc.nat({ max: 3 }),
    guides: fc.array(guide, { maxLength: 5 }),
    notes: fc.option(
      fc.record({
        pin: fc.uniqueArray(fc.nat({ max: 39 }), { maxLength: 3 }),
        drop: fc.uniqueArray(fc.nat({ max: 39 }), { maxLength: 3 }),
        guides: fc.uniqueArray(fc.nat({ max: 4 }), { maxLength: 3 }),
        intro: summaryText,
      }),
      { nil: undefined, freq: 3 },
    ),
  })
  .map(({ offsets, items, notes, guides, ...rest }) => {
    const site: GeneratedSite = { ...rest, guides, items: items.map((it, i) => ({ ...it, offset: offsets[i]! })) };
    if (!notes) return site;
    const pin = notes.pin.filter((i) => i < items.length);
    // At least one story stays: an issue with none is not built.
    const drop = notes.drop.filter((i) => i < items.length && !pin.includes(i)).slice(0, Math.max(0, items.length - pin.length - 1));
    return { ...site, notes: { pin, drop, guides: notes.guides.filter((i) => i < guides.length), intro: notes.intro } };
  });

/** The title with its tag, ⟨i⟩, at the generated place. */
export function taggedTitle(it: GeneratedItem, i: number): string {
  const chars = [...it.title];
  const at = it.at % (chars.length + 1);
  return [...chars.slice(0, at), `⟨${i}⟩`, ...chars.slice(at)].join('');
}

const yaml = (s: string) => JSON.stringify(s);

/** Writes the generated site into a new folder and publishes its guides; returns the folder and the window. */
export async function writeSite(g: GeneratedSite): Promise<{ root: string; date: string; window: { from: number; to: number } }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-props-'));
  const config = {
    title: g.title,
    baseUrl: 'https://letters.example.org',
    timezone: g.timezone,
    editions: {
      midweek: { label: g.edition === 'midweek' ? g.label : 'Midweek', cron: '0 7 * * 3', maxItems: g.edition === 'midweek' ? g.maxItems : 12 },
      sunday: { label: g.edition === 'sunday' ? g.label : 'Sunday', cron: '0 8 * * 0', maxItems: g.edition === 'sunday' ? g.maxItems : 20 },
    },
  };
  await writeFile(path.join(root, 'almanac.config.json'), JSON.stringify(config));
  const site = await loadSite(root);
  const date = DATES[g.edition]![g.dateIndex]!;
  const slot = slotOn(site.config, g.edition, date);
  if (slot === undefined) throw new Error(`${g.edition} is not scheduled on ${date} in ${g.timezone}`);
  const window = issueWindow(site.config, slot);

  await mkdir(path.join(root, 'content/news'), { recursive: true });
  const news = g.items.map((it, i) => ({ ...it, title: taggedTitle(it, i), published: window.from + it.offset * 1000 }));
  // Items just outside the window: at its opening instant (not after it) and a second after its end.
  for (let k = 0; k < g.outside; k++) {
    news.push({ ...g.items[k % g.items.length]!, title: `Outside ⟨x${k}⟩`, published: k % 2 ? window.to + 1000 : window.from });
  }
  await Promise.all(
    news.map((n, i) =>
      writeFile(
        path.join(root, `content/news/n${i}.md`),
        `---\ntitle: ${yaml(n.title)}\nurl: "https://news.example.com/${i}/story?id=${i}"\nsource: ${yaml(n.source)}\npublished: "${new Date(n.published).toISOString()}"\nscore: ${n.score}\ntopics: [${yaml(n.topic)}]\n---\n${n.summary}\n`,
      ),
    ),
  );
  if (g.notes) {
    const url = (i: number) => `  - "https://news.example.com/${i}/story?id=${i}"`;
    await mkdir(path.join(root, 'content/issues'), { recursive: true });
    await writeFile(
      path.join(root, `content/issues/${date}-${g.edition}.md`),
      [
        '---',
        'pin:',
        ...g.notes.pin.map(url),
        'drop:',
        ...g.notes.drop.map(url),
        `guides: [${g.notes.guides.map((i) => `guide-${i}`).join(', ')}]`,
        '---',
        `Intro ⟨intro⟩ ${g.notes.intro}`,
        '',
      ]
        .join('\n')
        .replace(/^(pin|drop):\n(?=drop:|guides:)/gm, '$1: []\n'),
    );
  }
  for (const [i, gd] of g.guides.entries()) {
    const slug = `guide-${i}`;
    await mkdir(path.join(root, 'content/guides', slug), { recursive: true });
    await writeFile(
      path.join(root, 'content/guides', slug, 'guide.md'),
      `---\ntitle: ${yaml(gd.title)}\nlevel: ${gd.level}\ntopics: [${yaml(gd.topic)}]\ntldr: ${yaml(gd.tldr)}\ntakeaways: [${yaml(gd.takeaway)}]\n---\n\n## Section\n\nBody.\n`,
    );
    // The issue pipeline never reads a card's pixels: a few fixed bytes stand in for the drawing.
    await publishGuides(root, { slugs: [slug] }, gd.note, window.from + gd.offset * 1000, async () => STAND_IN_CARD);
  }
  return { root, date, window };
}

// --- the pipeline property -------------------------------------------------------------------------

/** Byte-for-byte order a reader should see: the editor's pins, then score, then recency; no dropped story. */
function expectedStories(g: GeneratedSite): number[] {
  const pin = g.notes?.pin ?? [];
  const skip = new Set([...pin, ...(g.notes?.drop ?? [])]);
  const ranked = g.items
    .map((it, i) => ({ i, score: it.score, offset: it.offset }))
    .sort((a, b) => b.score - a.score || b.offset - a.offset)
    .map((x) => x.i)
    .filter((i) => !skip.has(i));
  return [...pin, ...ranked].slice(0, g.maxItems);
}

function count(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Builds the issue as `issue build` does (compose, render, the sample recipient's MIME, the checks) and checks it. */
export async function checkPipeline(g: GeneratedSite, templates: TemplateSet): Promise<void> {
  const { root, date } = await writeSite(g);
  try {
    const site = await loadSite(root);
    const notes = readIssueNotes(root, `${date}-${g.edition}`);
    const prepared = await prepareIssue({ site, catalog: buildCatalog(site), templates, edition: g.edition, date, number: 1, now: Date.UTC(2027, 0, 1), notes });
    const errors = prepared.findings.filter((f) => f.severity === 'error');
    if (errors.length) throw new Error(`the issue fails its own checks: ${errors.map((f) => `${f.check}: expected ${f.expected}, found ${f.found}`).join('; ')}`);

    const wrap = prepared.findings.find((f) => f.check === 'text-wrap');
    if (wrap) throw new Error(`the text part is not wrapped: ${wrap.found}`);

    const mail = await simpleParser(prepared.sampleMime);
    const html = String(mail.html);
    const text = mail.text ?? '';
    const bytes = Buffer.byteLength(html);
    if (bytes >= HTML_ERROR_BYTES) throw new Error(`decoded HTML of ${bytes} bytes`);

    // What the reader sees of the body: the preheader is inbox text, and the head holds the subject.
    const body = parse(html).querySelector('body')!;
    const first = body.childNodes.find((n) => n.nodeType === 1);
    const shown = body.textContent.slice(first ? first.textContent.length : 0);
    // A capped edition shows the top maxItems by score, then recency; an issue too large for the inbox
    // leaves out its lowest-ranked stories, and says how many.
    const ranked = expectedStories(g);
    const listed = [prepared.issue.top, ...prepared.issue.groups.flatMap((gr) => gr.stories)].map(tagOf);
    const cap = prepared.findings.find((f) => f.check === 'html-size' && /left out/.test(f.found));
    const cut = cap ? Number(/^(\d+) lowest-ranked/.exec(cap.found)?.[1]) : 0;
    const expected = ranked.slice(0, ranked.length - cut);
    if (cap && cut + listed.length !== ranked.length) throw new Error(`${cap.found}, but ${listed.length} of ${ranked.length} stories shown`);
    if (JSON.stringify([...listed].sort((a, b) => a - b)) !== JSON.stringify([...expected].sort((a, b) => a - b))) {
      throw new Error(`stories ${JSON.stringify(listed)}, expected ${JSON.stringify(expected)}`);
    }
    for (const group of prepared.issue.groups) {
      for (const st of group.stories) {
        const topic = g.items[tagOf(st)]!.topic;
        if (topic !== group.topic) throw new Error(`story ⟨${tagOf(st)}⟩ of topic ${JSON.stringify(topic)} under ${JSON.stringify(group.topic)} (its own: ${JSON.stringify(st.topic)})`);
      }
    }
    if (listed[0] !== expected[0]) throw new Error(`top story ⟨${listed[0]}⟩, expected ⟨${expected[0]}⟩`);
    // Below the top story, stories are grouped by topic: each group, and the groups themselves, keep
    // the order the editor's pins and then the ranking give.
    const rank = new Map(expected.map((i, at) => [i, at]));
    for (const group of prepared.issue.groups) {
      const order = group.stories.map((st) => rank.get(tagOf(st))!);
      if (order.some((r, k) => k > 0 && r < order[k - 1]!)) throw new Error(`stories of ${JSON.stringify(group.topic)} in the order ${JSON.stringify(group.stories.map(tagOf))}, expected pins first, then by rank`);
    }
    const firsts = prepared.issue.groups.map((gr) => rank.get(tagOf(gr.stories[0]!))!);
    if (firsts.some((r, k) => k > 0 && r < firsts[k - 1]!)) throw new Error(`topic groups in the order of stories ${JSON.stringify(prepared.issue.groups.map((gr) => tagOf(gr.stories[0]!)))}`);
    // And the reader sees them in that order.
    const at = listed.map((i) => shown.indexOf(`⟨${i}⟩`));
    if (at.some((p, k) => k > 0 && p < at[k - 1]!)) throw new Error(`stories shown in the order ${JSON.stringify([...listed].sort((a, b) => shown.indexOf(`⟨${a}⟩`) - shown.indexOf(`⟨${b}⟩`)))}, composed as ${JSON.stringify(listed)}`);
    // The guides the notes name are the featured ones, in their order; no guide appears twice.
    const featured = prepared.issue.guides.map((gd) => gd.slug);
    if (g.notes?.guides.length && featured.join() !== g.notes.guides.map((i) => `guide-${i}`).join()) throw new Error(`featured guides ${JSON.stringify(featured)}, the notes name ${JSON.stringify(g.notes.guides)}`);
    const allGuides = [...featured, ...prepared.issue.weekGuides.map((gd) => gd.slug)];
    if (new Set(allGuides).size !== allGuides.length) throw new Error(`a guide twice in the issue: ${JSON.stringify(allGuides)}`);
    // Every line of the text part fits 78 characters, except a link alone on its line.
    const wide = text.split(/\r?\n/).find((line) => [...line].length > 78 && !/^[(<"'[]?(https?:\/\/|mailto:)\S+$/.test(line.trim()));
    if (wide !== undefined) throw new Error(`a text line of ${[...wide].length} characters: ${JSON.stringify(wide)}`);
    for (let i = 0; i < g.items.length; i++) {
      const want = expected.includes(i) ? 1 : 0;
      const inHtml = count(shown, `⟨${i}⟩`);
      // A word longer than a line is broken across lines in the text part, maybe inside the tag.
      const inText = count(text.replace(/\r?\n/g, ''), `⟨${i}⟩`);
      if (inHtml !== want || inText !== want) throw new Error(`story ⟨${i}⟩ appears ${inHtml}× in the HTML and ${inText}× in the text, expected ${want}×`);
    }
    if (/⟨x\d+⟩/.test(shown) || /⟨x\d+⟩/.test(text)) throw new Error('a story from outside the window is in the issue');
    const intros = [count(shown, '⟨intro⟩'), count(text.replace(/\r?\n/g, ''), '⟨intro⟩')];
    if (intros.join() !== (g.notes ? '1,1' : '0,0')) throw new Error(`the intro appears ${intros[0]}× in the HTML and ${intros[1]}× in the text`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function tagOf(s: IssueStory): number {
  const m = /⟨(\d+)⟩/.exec(s.title);
  if (!m) throw new Error(`a story without its tag: ${JSON.stringify(s.title)}`);
  return Number(m[1]);
}

export function pipelineProperty(templates: TemplateSet): fc.IAsyncProperty<[GeneratedSite]> {
  return fc.asyncProperty(generatedSite, (g) => checkPipeline(g, templates));
}

// --- subject and preheader -------------------------------------------------------------------------

/** Any text content can hold, controls and line breaks included. */
const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: textUnit, maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\r', '\n', '\t', '\u2028', '😀', 'e\u0301', '\u0000', 'Bcc: x@y.z'), maxLength: 200 }),
);

/** What content may hold in a required field: something to show. */
const someText = anyText.filter((s) => /[^\s\p{C}]/u.test(s));

const headlineInput = fc.record({
  label: someText.map((s) => [...s].slice(0, 40).join('')).filter((s) => /[^\s\p{C}]/u.test(s)),
  number: fc.integer({ min: 1, max: 100_000 }),
  top: someText,
  next: fc.array(someText, { maxLength: 3 }),
  guide: fc.option(fc.record({ title: someText, label: someText, kind: fc.constantFrom('new', 'updated', 'related') }), { nil: undefined }),
});

function oneLineChecks(what: string, s: string, max: number): void {
  if ([...s].length > max) throw new Error(`${what} of ${[...s].length} characters: ${JSON.stringify(s)}`);
  if (/[\r\n\u2028\u2029\u0000-\u001f\u007f]/.test(s)) throw new Error(`${what} not on one line: ${JSON.stringify(s)}`);
  if (/\p{Cs}/u.test(s)) throw new Error(`${what} with a broken character (lone surrogate): ${JSON.stringify(s)}`);
  if (s !== s.trim()) throw new Error(`${what} with space at an end: ${JSON.stringify(s)}`);
}

export const headlineProperty = fc.asyncProperty(headlineInput, async (h) => {
  const story = (title: string) => ({ title }) as IssueStory;
  const subject = subjectLine({ editionLabel: h.label, top: story(h.top) }, h.number);
  oneLineChecks('subject', subject, SUBJECT_MAX);
  if (!subject.trim()) throw new Error('an empty subject');
  const preheader = preheaderText({
    groups: [{ topic: 'T', stories: h.next.map(story) }],
    guides: h.guide ? [{ ...h.guide, slug: 'g', tldr: '', level: 'beginner', version: 1, published: 0 } as never] : [],
  });
  oneLineChecks('preheader', preheader, PREHEADER_MAX);
  if (!preheader.trim()) throw new Error('an empty preheader');
  // Padded to the width, as the reader's client counts it (references decoded).
  const pad = parse(`<div>${preheaderPad(preheader).toHTML()}</div>`).textContent;
  if ([...preheader].length + [...pad].length !== Math.max(PREHEADER_WIDTH, [...preheader].length)) throw new Error(`preheader padded to ${[...preheader].length + [...pad].length}`);
  // The subject reaches the reader whole: encoded into the header and decoded back.
  const mime = compileIssueMessage(
    { from: 'A <a@letters.example.org>', title: 'T', baseUrl: 'https://letters.example.org' } as never,
    { id: 'x', subject, scheduledAt: 0 },
    { html: '<p>x</p>', text: 'x' },
  ).render({ email: 'r@example.com', name: '', messageId: 'm@x', unsubscribeUrl: 'https://letters.example.org/u', unsubscribeMailto: 'mailto:a@letters.example.org', tokens: { unsubscribe: '', preferences: '', name: '' } });
  const decoded = (await simpleParser(mime)).subject ?? '';
  if (decoded !== subject) throw new Error(`subject ${JSON.stringify(subject)} arrives as ${JSON.stringify(decoded)}`);
});

// --- running ---------------------------------------------------------------------------------------

export interface RunOptions {
  seed: number;
  runs: number;
  /** Runs of the cheap subject/preheader property for each run of the pipeline. */
  headlineFactor?: number;
  /** Report the first failure as found, without looking for a smaller one (shrinking large issues is slow). */
  noShrink?: boolean;
}

export async function runIssueProperties(o: RunOptions): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'almanac-props-templates-'));
  const templates = await TemplateSet.load(root, 'email');
  await rm(root, { recursive: true, force: true });
  const endOnFailure = o.noShrink ?? false;
  try {
    await fc.assert(headlineProperty, { seed: o.seed, numRuns: o.runs * (o.headlineFactor ?? 5), endOnFailure });
    await fc.assert(pipelineProperty(templates), { seed: o.seed, numRuns: o.runs, endOnFailure });
  } catch (err) {
    // fast-check's report has the seed, the path and the content; the property's own words are in the cause.
    const cause = err instanceof Error && err.cause instanceof Error ? `\n${err.cause.message}` : '';
    throw new Error(`${err instanceof Error ? err.message : String(err)}${cause}\n\nreproduce: npm run props -- --seed ${o.seed} --runs ${o.runs}`, { cause: err });
  }
}
