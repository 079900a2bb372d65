// A synthetic site for benchmarks: N published guides and M news items, written as `guide publish`
// would leave them (guide.md, a frozen v1 with its social card, and versions.json with their hashes).
// Deterministic for a given size and the same sharp.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256, versionCardFile } from '../src/content/versions.ts';
import { cardText, drawCard } from '../src/site/social-card.ts';

/** Bumped whenever what the corpus holds changes, so that a corpus written before is written again. */
const CORPUS_FORMAT = 2;

/** Where `npm run bench` keeps the corpus of that size; the format is in the name, so an older corpus is not reused. */
export function corpusDir(guides: number, news: number): string {
  return path.join(os.tmpdir(), `almanac-bench-${guides}-${news}-f${CORPUS_FORMAT}`);
}

const TOPICS = Array.from({ length: 60 }, (_, i) => `Topic ${String.fromCharCode(65 + (i % 26))}${Math.floor(i / 26) || ''}`);
const LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
const SOURCES = ['The Batch', 'Meta AI Blog', 'Import AI', 'The Verge', 'Ars Technica', 'TechCrunch'];
const WORDS = (
  'model launch chip benchmark safety agent reasoning vision audio robotics startup funding lawsuit policy ' +
  'regulation datacenter power nuclear training inference open weights license research paper dataset ' +
  'partnership acquisition hiring earnings glasses assistant search coding compiler kernel memory context'
).split(' ');

/** A small linear congruential generator, so every run builds the same corpus. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PARAGRAPH =
  'Open-weights models changed who can build with AI: a startup can download a model, fine-tune it on its own ' +
  'data and run it on hardware it controls. Closed models still lead on the hardest benchmarks, but the gap is ' +
  'narrowing, and the choice is now a question of cost, privacy and control rather than of capability alone.';

export function guideSource(i: number, rnd: () => number): { source: string; title: string; level: (typeof LEVELS)[number] } {
  const topics = [TOPICS[i % TOPICS.length]!, TOPICS[Math.floor(rnd() * TOPICS.length)]!, TOPICS[Math.floor(rnd() * TOPICS.length)]!];
  const sections = Array.from({ length: 6 }, (_, s) => `## Section ${s + 1} of guide ${i}\n\n${PARAGRAPH}\n\n- A point about ${topics[0]}\n- Another point with **emphasis** and a [link](https://example.com/${i}/${s})\n\n${PARAGRAPH}\n`);
  const title = `Guide ${i}: ${topics[0]} explained`;
  const level = LEVELS[i % 3]!;
  const source = `---
title: "${title}"
level: ${level}
topics: [${[...new Set(topics)].map((t) => JSON.stringify(t)).join(', ')}]
tldr: "A short summary of guide ${i}, what ${topics[0]} is and why it matters to a reader in a hurry."
takeaways:
  - The first takeaway of guide ${i}.
  - The second takeaway, about ${topics[1]}.
  - The third takeaway, about ${topics[2]}.
timeline:
  - { date: 2024-04-18, event: "Something happened" }
  - { date: 2025-04, event: "Something else happened" }
related: [${JSON.stringify(TOPICS[(i + 7) % TOPICS.length])}]
faq:
  - q: What is guide ${i} about?
    a: It is about ${topics[0]}.
  - q: Who is it for?
    a: Readers at the ${LEVELS[i % 3]} level.
---

${sections.join('\n')}`;
  return { source, title, level };
}

/** Five words picked at random, so that distinct stories do not read as one story told twice. */
function headline(rnd: () => number): string {
  return Array.from({ length: 5 }, () => WORDS[Math.floor(rnd() * WORDS.length)]!).join(' ');
}

export async function writeCorpus(root: string, guides: number, news: number): Promise<void> {
  const rnd = random(42);
  const published = new Date('2026-05-01T09:00:00Z');
  const pending: Promise<void>[] = [];
  for (let i = 0; i < guides; i++) {
    const dir = path.join(root, 'content/guides', `guide-${i}`);
    const { source, title, level } = guideSource(i, rnd);
    const publishedAt = new Date(published.getTime() + i * 60_000).toISOString();
    pending.push(
      (async () => {
        // Drawn once, here, by the function `guide publish` uses: a build only copies it.
        const card = await drawCard(cardText({ title, level }));
        const entry = { version: 1, published: publishedAt, note: 'First edition', sha256: sha256(source), card: createHash('sha256').update(card).digest('hex') };
        await mkdir(path.join(dir, 'versions/v1'), { recursive: true });
        await Promise.all([
          writeFile(path.join(dir, 'guide.md'), source),
          writeFile(path.join(dir, 'versions/v1.md'), source),
          writeFile(path.join(dir, versionCardFile(1)), card),
          writeFile(path.join(dir, 'versions.json'), `${JSON.stringify({ versions: [entry] }, null, 2)}\n`),
        ]);
      })(),
    );
    if (pending.length >= 16) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const start = Date.parse('2026-03-01T00:00:00Z');
  const files: Promise<void>[] = [];
  for (let i = 0; i < news; i++) {
    const week = Math.floor(i / 200);
    const dir = path.join(root, 'content/news', `week-${String(week).padStart(3, '0')}`);
    if (i % 200 === 0) await mkdir(dir, { recursive: true });
    const topic = TOPICS[Math.floor(rnd() * TOPICS.length)]!;
    const when = new Date(start + Math.floor(rnd() * 100 * 86_400_000)).toISOString().replace(/\.\d+Z$/, 'Z');
    files.push(
      writeFile(
        path.join(dir, `item-${i}.md`),
        `---\ntitle: "${topic} ${headline(rnd)}"\nurl: https://news.example.com/${week}/story-${i}\nsource: ${SOURCES[i % SOURCES.length]}\npublished: ${when}\nscore: ${1 + Math.floor(rnd() * 10)}\ntopics: [${JSON.stringify(topic)}]\n---\nA summary of story ${i} in two sentences, with *emphasis* and a [link](https://example.com/${i}). It matters because ${topic} keeps moving.\n`,
      ),
    );
    if (files.length >= 256) await Promise.all(files.splice(0));
  }
  await Promise.all(files);
}
