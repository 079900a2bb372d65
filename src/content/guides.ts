import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseFrontMatter } from './frontmatter.ts';
import { guideSchema, validate } from './schema.ts';
import { isSlug } from './slug.ts';
import { MANIFEST, VERSIONS_DIR, parseManifest, sha256, tamperProblem, versionFileName } from './versions.ts';
import type { Guide, GuideDoc, GuideVersion } from './model.ts';
import type { Problem } from './problems.ts';

export const GUIDES_DIR = 'content/guides';
export const WORKING_COPY = 'guide.md';

/** Reads and validates a guide document (working copy or frozen version). */
export function parseGuideDoc(source: string, file: string): { doc?: GuideDoc; problems: Problem[] } {
  const parsed = parseFrontMatter(source, file);
  if ('problems' in parsed) return { problems: parsed.problems };
  const result = validate(guideSchema, parsed.data, file);
  if (!result.value) return { problems: result.problems };
  return { doc: { front: result.value, body: parsed.body }, problems: [] };
}

export async function listGuideSlugs(root: string): Promise<string[]> {
  try {
    const entries = readdirSync(path.join(root, GUIDES_DIR), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function loadGuides(root: string): Promise<{ guides: Guide[]; problems: Problem[] }> {
  const slugs = await listGuideSlugs(root);
  const guides: Guide[] = [];
  const problems: Problem[] = [];
  for (const slug of slugs) {
    const r = await loadGuide(root, slug);
    problems.push(...r.problems);
    if (r.guide) guides.push(r.guide);
  }
  return { guides, problems };
}

export async function loadGuide(root: string, slug: string): Promise<{ guide?: Guide; problems: Problem[] }> {
  const dir = `${GUIDES_DIR}/${slug}`;
  const file = `${dir}/${WORKING_COPY}`;
  const problems: Problem[] = [];
  if (!isSlug(slug)) {
    problems.push({ file: dir, expected: 'a folder name of lowercase letters, digits and hyphens (it becomes the URL)', found: JSON.stringify(slug) });
  }
  const workingSource = await readText(root, file);
  if (workingSource === undefined) {
    problems.push({ file, expected: 'the guide\'s working copy (run "almanac guide new <slug>" to start one)', found: 'no such file' });
    return { problems };
  }
  const working = parseGuideDoc(workingSource, file);
  problems.push(...working.problems);
  const versions = await loadVersions(root, dir, working.doc && { source: workingSource, doc: working.doc });
  problems.push(...versions.problems);
  if (!working.doc || problems.length > 0) return { problems };
  return { guide: { slug, file, working: working.doc, workingSource, versions: versions.versions }, problems };
}

/**
 * Reads and checks every frozen version. `working` is the parsed working copy: usually identical to
 * the latest version, whose parse it then stands in for.
 */
async function loadVersions(
  root: string,
  dir: string,
  working?: { source: string; doc: GuideDoc },
): Promise<{ versions: GuideVersion[]; problems: Problem[] }> {
  const manifestFile = `${dir}/${MANIFEST}`;
  const source = await readText(root, manifestFile);
  const onDisk = await listVersionFiles(root, dir);
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
  for (const name of onDisk) {
    if (!listed.has(`${VERSIONS_DIR}/${name}`)) {
      problems.push({ file: `${dir}/${VERSIONS_DIR}/${name}`, expected: `a version listed in ${manifestFile}`, found: 'a file that was never published' });
    }
  }
  const versions: GuideVersion[] = [];
  for (const entry of entries) {
    const file = `${dir}/${versionFileName(entry.version)}`;
    const frozen = await readText(root, file);
    if (frozen === undefined) {
      problems.push({ file, expected: `v${entry.version} as listed in ${manifestFile}`, found: 'no such file' });
      continue;
    }
    if (sha256(frozen) !== entry.sha256) {
      problems.push(tamperProblem(file, entry));
      continue;
    }
    const parsed = working && working.source === frozen ? { doc: working.doc, problems: [] } : parseGuideDoc(frozen, file);
    problems.push(...parsed.problems);
    if (!parsed.doc) continue;
    const published = DateTime.fromISO(entry.published, { setZone: true }).toMillis();
    versions.push({ version: entry.version, published, note: entry.note, file, doc: parsed.doc, entry });
  }
  return { versions, problems };
}

async function listVersionFiles(root: string, dir: string): Promise<string[]> {
  try {
    const names = readdirSync(path.join(root, dir, VERSIONS_DIR));
    return names.filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function readText(root: string, file: string): Promise<string | undefined> {
  try {
    return readFileSync(path.join(root, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
