// One guide folder read and checked: the working copy, the manifest of published versions and each
// frozen version (its hash compared with the manifest's). Parsing needs the YAML, schema and date
// libraries; guides.ts loads this module only for guides that are not in the build cache.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseFrontMatter } from './frontmatter.ts';
import { guideSchema } from './guide-schema.ts';
import { validate } from './validate.ts';
import { isSlug } from './slug.ts';
import { decodeText, type Decoded } from './text.ts';
import { GUIDES_DIR, MANIFEST, VERSIONS_DIR, WORKING_COPY } from './paths.ts';
import { cardTamperProblem, parseManifest, sha256, tamperProblem, versionCardFile, versionFileName, versionFiguresDir, figureTamperProblem, type ManifestEntry } from './versions.ts';
import { findImages, linesBefore, resolveFigures } from './figures.ts';
import type { Guide, GuideDoc, GuideVersion } from './model.ts';
import { ContentError, type Problem } from './problems.ts';
import { MAX_ASSET_BYTES, readInsideRoot, walkTree } from '../files/walk.ts';

/** What one guide folder gives (the guide, or the problems that keep it out) and every file and folder read for it. */
export type GuideRead = { value: { guide?: Guide; problems: Problem[] }; inputs: string[] };

/** Reads and validates a guide document (working copy or frozen version). */
function parseGuideDoc(source: string, file: string): { doc?: GuideDoc; problems: Problem[] } {
  const parsed = parseFrontMatter(source, file);
  if ('problems' in parsed) return { problems: parsed.problems };
  const result = validate(guideSchema, parsed.data, file);
  if (!result.value) return { problems: result.problems };
  return { doc: { front: result.value, body: parsed.body }, problems: [] };
}

/** Reads and checks one guide folder, noting what it read. */
export function readGuideFiles(root: string, slug: string): GuideRead {
  const reader = new GuideReader(root);
  try {
    return { value: readGuide(reader, slug), inputs: reader.read };
  } catch (err) {
    if (err instanceof ContentError) return { value: { problems: [...err.problems] }, inputs: reader.read };
    throw err;
  }
}

/** Reads a guide's files below the site root, noting each file and folder it looked at. */
class GuideReader {
  readonly read: string[] = [];

  constructor(readonly root: string) {}

  /** Notes a file or folder looked at by another reader (a figure's). */
  note = (abs: string): void => {
    this.read.push(abs);
  };

  /** The file's text (or why it is not UTF-8); undefined when there is no such file. */
  text(file: string): Decoded | undefined {
    this.read.push(path.join(this.root, file));
    const bytes = readInsideRoot(this.root, file);
    return bytes && decodeText(bytes, file);
  }

  /** The file's bytes; undefined when there is no such file. */
  bytes(file: string): Buffer | undefined {
    this.read.push(path.join(this.root, file));
    return readInsideRoot(this.root, file, MAX_ASSET_BYTES);
  }

  /** The names in a folder, without hidden files, sorted; empty when there is no such folder. */
  names(dir: string): string[] {
    this.read.push(path.join(this.root, dir));
    return walkTree(path.join(this.root, dir), { root: this.root, depth: 1, skipHidden: true })
      .map((e) => e.rel)
      .sort();
  }
}

export function loadGuide(root: string, slug: string): { guide?: Guide; problems: Problem[] } {
  return readGuideFiles(root, slug).value;
}

function readGuide(reader: GuideReader, slug: string): { guide?: Guide; problems: Problem[] } {
  const dir = `${GUIDES_DIR}/${slug}`;
  const file = `${dir}/${WORKING_COPY}`;
  const problems: Problem[] = [];
  if (!isSlug(slug)) {
    problems.push({ file: dir, expected: 'a folder name of lowercase letters, digits and hyphens (it becomes the URL)', found: JSON.stringify(slug) });
  }
  const working = reader.text(file);
  if (working === undefined) {
    problems.push({ file, expected: 'the guide\'s working copy (run "almanac guide new <slug>" to start one)', found: 'no such file' });
    return { problems };
  }
  if (working.problem) {
    problems.push(working.problem);
    return { problems };
  }
  const workingSource = working.text;
  const parsed = parseGuideDoc(workingSource, file);
  problems.push(...parsed.problems);
  if (parsed.doc) problems.push(...attachFigures(reader, parsed.doc, workingSource, { docFile: file, guideDir: dir, baseDir: dir, frozen: false }), ...imagesOutsideBody(parsed.doc, file));
  const workingSha256 = sha256(workingSource);
  const versions = loadVersions(reader, dir, parsed.doc && { source: workingSource, sha256: workingSha256, doc: parsed.doc });
  problems.push(...versions.problems);
  if (!parsed.doc || problems.length > 0) return { problems };
  return { guide: { slug, file, working: parsed.doc, workingSha256, versions: versions.versions }, problems };
}

/**
 * Finds, checks and reads a document's images, putting them on the document; returns the problems.
 * `source` is the whole file, for line numbers.
 */
function attachFigures(
  reader: GuideReader,
  doc: GuideDoc,
  source: string,
  where: { docFile: string; guideDir: string; baseDir: string; frozen: boolean },
): Problem[] {
  const refs = findImages(doc.body, linesBefore(source, doc.body));
  if (refs.length === 0) return [];
  const { figures, problems } = resolveFigures(reader.root, refs, where, reader.note);
  if (figures.length > 0) doc.figures = figures;
  return problems;
}

/**
 * Images in the front matter's Markdown (takeaways, timeline, FAQ answers): only the body's images are
 * checked, frozen and sized, so one there would be a broken image on the page.
 */
function imagesOutsideBody(doc: GuideDoc, file: string): Problem[] {
  const fields: [string, string][] = [
    ...doc.front.takeaways.map((text, i): [string, string] => [`takeaways[${i}]`, text]),
    ...doc.front.timeline.map((e, i): [string, string] => [`timeline[${i}].event`, e.event]),
    ...doc.front.faq.map((f, i): [string, string] => [`faq[${i}].a`, f.a]),
  ];
  return fields
    .filter(([, text]) => findImages(text, 0).length > 0)
    .map(([field]) => ({ file, field, expected: "text without images (a figure goes in the guide's body, alone in its paragraph)", found: 'an image' }));
}

/** A frozen image whose bytes are not those published with its version. */
function figureTampering(doc: GuideDoc, entry: ManifestEntry): Problem[] {
  return (doc.figures ?? []).filter((f) => entry.figures?.[f.src] !== f.sha256).map((f) => figureTamperProblem(f.file, entry));
}

/** A version's frozen card, checked against the hash its manifest line records. */
function frozenCard(reader: GuideReader, dir: string, entry: ManifestEntry): { file: string; sha256: string } | { problem: Problem } {
  const file = `${dir}/${versionCardFile(entry.version)}`;
  let bytes: Buffer | undefined;
  try {
    bytes = reader.bytes(file);
  } catch (err) {
    if (!(err instanceof ContentError)) throw err;
  }
  const hash = bytes && createHash('sha256').update(bytes).digest('hex');
  if (hash === undefined || hash !== entry.card) return { problem: cardTamperProblem(file, entry) };
  return { file, sha256: hash };
}

/**
 * Reads and checks every frozen version. `working` is the parsed working copy: usually identical to
 * the latest version, whose parse it then stands in for.
 */
function loadVersions(
  reader: GuideReader,
  dir: string,
  working?: { source: string; sha256: string; doc: GuideDoc },
): { versions: GuideVersion[]; problems: Problem[] } {
  const manifestFile = `${dir}/${MANIFEST}`;
  const manifest = reader.text(manifestFile);
  const onDisk = reader.names(`${dir}/${VERSIONS_DIR}`);
  if (manifest?.problem) return { versions: [], problems: [manifest.problem] };
  const source = manifest?.text;
  if (source === undefined) {
    const problems = onDisk.map((name) => ({
      file: `${dir}/${VERSIONS_DIR}/${name}`,
      expected: `a version listed in ${manifestFile}`,
      found: 'a version file with no manifest',
    }));
    return { versions: [], problems };
  }
  const { entries, problems } = parseManifest(source, manifestFile);
  const listed = new Set(entries.map((e) => versionFileName(e.version)));
  for (const e of entries) if (e.figures || e.card) listed.add(versionFiguresDir(e.version));
  for (const name of onDisk) {
    if (!listed.has(`${VERSIONS_DIR}/${name}`)) {
      problems.push({ file: `${dir}/${VERSIONS_DIR}/${name}`, expected: `a version listed in ${manifestFile}`, found: 'a file that was never published' });
    }
  }
  const versions: GuideVersion[] = [];
  for (const entry of entries) {
    const file = `${dir}/${versionFileName(entry.version)}`;
    const read = reader.text(file);
    if (read === undefined) {
      problems.push({ file, expected: `v${entry.version} as listed in ${manifestFile}`, found: 'no such file' });
      continue;
    }
    if (read.problem) {
      problems.push(read.problem);
      continue;
    }
    const frozen = read.text;
    const same = working !== undefined && working.source === frozen;
    if ((same ? working.sha256 : sha256(frozen)) !== entry.sha256) {
      problems.push(tamperProblem(file, entry));
      continue;
    }
    const parsed = same ? { doc: working.doc, problems: [] } : parseGuideDoc(frozen, file);
    problems.push(...parsed.problems);
    if (!parsed.doc) continue;
    if (same && working.doc.figures) parsed.doc = { ...working.doc, figures: undefined };
    const frozenFigures = attachFigures(reader, parsed.doc, frozen, { docFile: file, guideDir: dir, baseDir: `${dir}/${versionFiguresDir(entry.version)}`, frozen: true });
    problems.push(...frozenFigures, ...figureTampering(parsed.doc, entry));
    const card = entry.card === undefined ? undefined : frozenCard(reader, dir, entry);
    if (card && 'problem' in card) problems.push(card.problem);
    const published = DateTime.fromISO(entry.published, { setZone: true }).toMillis();
    const version: GuideVersion = { version: entry.version, published, note: entry.note, file, doc: parsed.doc, entry };
    if (card && !('problem' in card)) version.card = card;
    versions.push(version);
  }
  return { versions, problems };
}
