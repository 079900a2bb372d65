// Starting, freezing and listing guide versions. Each publish writes the frozen copy and then the
// manifest, each through a temporary file and a rename, so an interrupted publish leaves either the
// old state or the new one (at worst an unlisted version file, which the build reports).
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { writeFileAtomically } from '../files/atomic.ts';
import { MAX_ASSET_BYTES, readInsideRoot, readTextInsideRoot } from '../files/walk.ts';
import { figureHashes, type Figure } from './figures.ts';
import path from 'node:path';
import { loadGuide } from './guide-files.ts';
import { listGuideSlugs } from './guides.ts';
import { GUIDES_DIR, MANIFEST, WORKING_COPY } from './paths.ts';
import { ContentError, ProblemList, UsageError, type Problem } from './problems.ts';
import { isSlug } from './slug.ts';
import { serialiseManifest, sha256, versionCardFile, versionFileName, versionFiguresDir, type ManifestEntry } from './versions.ts';
import type { Guide, GuideDoc } from './model.ts';

/**
 * Draws the social card of a version that has no figure of its own (see site/social-card.ts): passed
 * in by the command, since drawing is the site's business, and freezing the result is this module's.
 */
export type CardDrawer = (doc: GuideDoc) => Promise<Buffer>;

export async function newGuide(root: string, slug: string): Promise<string> {
  if (!isSlug(slug)) {
    throw new UsageError(`guide slug "${slug}" must be lowercase letters, digits and hyphens, e.g. "llama-4"`);
  }
  const file = `${GUIDES_DIR}/${slug}/${WORKING_COPY}`;
  await mkdir(path.join(root, GUIDES_DIR, slug), { recursive: true });
  try {
    await writeFile(path.join(root, file), scaffold(slug), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ContentError([{ file, expected: 'no guide with this slug yet', found: 'an existing guide' }]);
    }
    throw err;
  }
  return file;
}

function scaffold(slug: string): string {
  const title = slug
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
  return `---
title: ${JSON.stringify(title)}
level: beginner
topics:
  - ${JSON.stringify(title)}
tldr: >-
  Two or three sentences that tell a hurried reader what this is and why it matters.
takeaways:
  - The first thing a reader should remember.
# timeline:
#   - { date: 2026-04-08, event: "What happened" }
# related: [Another topic]
# faq:
#   - q: A question readers ask
#     a: Its answer.
---

## What it is

Start with the plain explanation. Each \`##\` heading becomes a section with its own anchor
and an entry in the table of contents.

## Why it matters to you
`;
}

export interface Published {
  slug: string;
  version: number;
  file: string;
}

/**
 * Freezes each named guide's working copy as its next version. With `all`, every guide that changed.
 * `decodes` reports the images that cannot be read as pictures (the content stage reads only their
 * first bytes): a version frozen with one would fail every build after it.
 */
export async function publishGuides(
  root: string,
  selection: { slugs: string[] } | { all: true },
  note: string,
  now: number,
  drawCard: CardDrawer,
  decodes?: (figures: Figure[]) => Promise<Problem[]>,
): Promise<{ published: Published[]; unchanged: string[] }> {
  if (!note.trim()) throw new UsageError('--note must say what changed, e.g. --note "Adds the Behemoth release"');
  const slugs = 'all' in selection ? await listGuideSlugs(root) : selection.slugs;
  if (slugs.length === 0) throw new UsageError('name at least one guide, or use --all');
  const problems = new ProblemList();
  const ready: Guide[] = [];
  const unchanged: string[] = [];
  for (const slug of slugs) {
    const { guide, problems: found } = loadGuide(root, slug);
    problems.addAll(found);
    if (!guide) continue;
    const latest = guide.versions.at(-1);
    if (latest && !differsFromLatest(guide)) {
      if ('all' in selection) unchanged.push(slug);
      else problems.add(unchangedProblem(guide.file, latest.version));
      continue;
    }
    ready.push(guide);
  }
  problems.throwIfAny();
  if (decodes) problems.addAll(await decodes(ready.flatMap((g) => g.working.figures ?? [])));
  problems.throwIfAny();
  const published: Published[] = [];
  for (const guide of ready) published.push(await freeze(root, guide, note.trim(), now, drawCard));
  return { published, unchanged };
}

function unchangedProblem(file: string, version: number): Problem {
  return { file, expected: `changes since v${version} to publish`, found: `the same text as v${version}` };
}

/**
 * The loader checked each frozen file against its hash, so comparing hashes compares the texts; a
 * replaced image with the same text is a change too.
 */
export function differsFromLatest(guide: Guide): boolean {
  const latest = guide.versions.at(-1);
  if (!latest || latest.entry.sha256 !== guide.workingSha256) return true;
  return sameFigures(figureHashes(guide.working.figures), latest.entry.figures ?? {}) === false;
}

function sameFigures(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

async function freeze(root: string, guide: Guide, note: string, now: number, drawCard: CardDrawer): Promise<Published> {
  const dir = path.join(root, GUIDES_DIR, guide.slug);
  // The text that was checked, read again: a save in between would freeze something unchecked.
  // Decoded as the loader decodes it (a byte order mark dropped), so that the hashes compare.
  const text = readTextInsideRoot(root, guide.file);
  if (text === undefined || sha256(text) !== guide.workingSha256) {
    throw new ContentError([{ file: guide.file, expected: 'the working copy as it was checked', found: 'a file saved again while publishing (run the command again)' }]);
  }
  const version = guide.versions.length + 1;
  const rel = versionFileName(version);
  const entries: ManifestEntry[] = guide.versions.map((v) => v.entry);
  const figures = await freezeFigures(root, guide, dir, version);
  // The card shows only the version's own text, so it is drawn once, here, and frozen with it.
  const card = figures ? undefined : await freezeCard(dir, version, await drawCard(guide.working));
  entries.push({ version, published: new Date(now).toISOString(), note, sha256: guide.workingSha256, ...(figures && { figures }), ...(card && { card }) });
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileAtomically(path.join(dir, rel), text);
  writeFileAtomically(path.join(dir, MANIFEST), serialiseManifest(entries));
  return { slug: guide.slug, version, file: `${GUIDES_DIR}/${guide.slug}/${rel}` };
}

/**
 * Copies the working copy's images beside the new version (`versions/vN/<file>`), so that the
 * version keeps them whatever happens to the originals; their hashes go into the manifest.
 */
async function freezeFigures(root: string, guide: Guide, dir: string, version: number): Promise<Record<string, string> | undefined> {
  const figures = guide.working.figures ?? [];
  if (figures.length === 0) return undefined;
  const hashes: Record<string, string> = {};
  for (const figure of figures) {
    const bytes = readInsideRoot(root, figure.file, MAX_ASSET_BYTES);
    if (bytes === undefined || createHash('sha256').update(bytes).digest('hex') !== figure.sha256) {
      throw new ContentError([{ file: figure.file, expected: 'the image as it was checked', found: 'a file saved again while publishing (run the command again)' }]);
    }
    const target = path.join(dir, versionFiguresDir(version), figure.src);
    await mkdir(path.dirname(target), { recursive: true });
    writeFileAtomically(target, bytes);
    hashes[figure.src] = figure.sha256;
  }
  return hashes;
}

/** Writes a version's card beside it (`versions/vN/card.png`); returns its hash for the manifest. */
async function freezeCard(dir: string, version: number, png: Buffer): Promise<string> {
  const target = path.join(dir, versionCardFile(version));
  await mkdir(path.dirname(target), { recursive: true });
  writeFileAtomically(target, png);
  return createHash('sha256').update(png).digest('hex');
}

/** A published version that shows a drawn card but has none frozen: published before cards were, or written by hand. */
export function lacksCard(guide: Guide): boolean {
  const latest = guide.versions.at(-1);
  return latest !== undefined && !latest.doc.figures?.length && latest.card === undefined;
}

/**
 * Draws and freezes the card of every published version of the named guides (or of every guide)
 * that has neither a figure nor a card, without making a new version: the manifest gains a `card`
 * line per version, and nothing else in it changes. Returns each guide and the versions given one.
 */
export async function freezeMissingCards(root: string, slugs: string[] | 'all', drawCard: CardDrawer): Promise<{ slug: string; versions: number[] }[]> {
  const names = slugs === 'all' ? await listGuideSlugs(root) : slugs;
  const problems = new ProblemList();
  const guides: Guide[] = [];
  for (const slug of names) {
    const { guide, problems: found } = loadGuide(root, slug);
    problems.addAll(found);
    if (guide) guides.push(guide);
  }
  problems.throwIfAny();
  const done: { slug: string; versions: number[] }[] = [];
  for (const guide of guides) {
    const dir = path.join(root, GUIDES_DIR, guide.slug);
    const missing = guide.versions.filter((v) => !v.doc.figures?.length && v.entry.card === undefined);
    if (missing.length === 0) continue;
    const cards = new Map<number, string>();
    for (const v of missing) cards.set(v.version, await freezeCard(dir, v.version, await drawCard(v.doc)));
    const entries = guide.versions.map((v) => (cards.has(v.version) ? { ...v.entry, card: cards.get(v.version)! } : v.entry));
    writeFileAtomically(path.join(dir, MANIFEST), serialiseManifest(entries));
    done.push({ slug: guide.slug, versions: [...cards.keys()] });
  }
  return done;
}

export interface VersionListing {
  guide: Guide;
  /** Whether guide.md differs from the latest version (or nothing is published yet). */
  hasUnpublishedChanges: boolean;
}

export async function guideVersions(root: string, slug: string): Promise<VersionListing> {
  const { guide, problems } = loadGuide(root, slug);
  if (!guide) throw new ContentError(problems);
  return { guide, hasUnpublishedChanges: differsFromLatest(guide) };
}
