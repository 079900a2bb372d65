// Published guide versions: frozen copies of the working copy under content/guides/<slug>/versions/,
// listed in versions.json with their publish time, note and a SHA-256 of the frozen bytes.
// The hash is what makes a hand edit of a frozen version visible.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { validate } from './validate.ts';
import { VERSIONS_DIR } from './paths.ts';
import type { Problem } from './problems.ts';

const entrySchema = z.strictObject({
  version: z.number({ error: 'a version number' }).int().min(1, { error: 'a version number from 1' }),
  published: z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time' }),
  note: z.string({ error: 'a note (text)' }),
  sha256: z.string({ error: 'a SHA-256 hex digest' }).regex(/^[0-9a-f]{64}$/, { error: 'a SHA-256 hex digest' }),
  /** Each frozen image (its path as the version's Markdown writes it) and the SHA-256 of its bytes. */
  figures: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, { error: 'a SHA-256 hex digest' }), { error: 'a mapping of image files to SHA-256 digests' }).optional(),
  /** The SHA-256 of the version's social card (`versions/vN/card.png`), drawn when it was published without a figure. */
  card: z.string({ error: 'a SHA-256 hex digest' }).regex(/^[0-9a-f]{64}$/, { error: 'a SHA-256 hex digest' }).optional(),
});
const manifestSchema = z.strictObject({ versions: z.array(entrySchema, { error: 'a list of versions' }) });

export type ManifestEntry = z.infer<typeof entrySchema>;

export function versionFileName(version: number): string {
  return `${VERSIONS_DIR}/v${version}.md`;
}

/** The folder of a version's frozen images, beside its Markdown: `versions/v2/`. */
export function versionFiguresDir(version: number): string {
  return `${VERSIONS_DIR}/v${version}`;
}

/** A version's frozen social card, beside its images: `versions/v2/card.png`. */
export function versionCardFile(version: number): string {
  return `${versionFiguresDir(version)}/card.png`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Parses versions.json; versions must run 1, 2, 3 … without gaps. */
export function parseManifest(source: string, file: string): { entries: ManifestEntry[]; problems: Problem[] } {
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (err) {
    return { entries: [], problems: [{ file, expected: 'valid JSON', found: (err as Error).message }] };
  }
  const result = validate(manifestSchema, data, file);
  if (!result.value) return { entries: [], problems: result.problems };
  const entries = result.value.versions;
  const problems: Problem[] = [];
  entries.forEach((entry, i) => {
    if (entry.version !== i + 1) {
      problems.push({ file, field: `versions[${i}].version`, expected: `version ${i + 1}`, found: `version ${entry.version}` });
    }
  });
  return { entries, problems };
}

export function serialiseManifest(entries: readonly ManifestEntry[]): string {
  return `${JSON.stringify({ versions: entries }, null, 2)}\n`;
}

/** The problem to report when a frozen image's bytes no longer match what was published. */
export function figureTamperProblem(file: string, entry: ManifestEntry): Problem {
  return {
    file,
    expected: `the image frozen with v${entry.version} on ${entry.published.slice(0, 10)} (published versions are never edited; change the image beside guide.md and publish a new version)`,
    found: 'a changed or missing file',
  };
}

/** The problem to report when a frozen card's bytes no longer match what was published. */
export function cardTamperProblem(file: string, entry: ManifestEntry): Problem {
  return {
    file,
    expected: `the social card frozen with v${entry.version} on ${entry.published.slice(0, 10)} (published versions are never edited; delete the "card" line of v${entry.version} in versions.json and run "almanac guide cards" to draw it again)`,
    found: 'a changed or missing file',
  };
}

/** The problem to report when a frozen version's bytes no longer match what was published. */
export function tamperProblem(file: string, entry: ManifestEntry): Problem {
  return {
    file,
    expected: `the text frozen as v${entry.version} on ${entry.published.slice(0, 10)} (published versions are never edited; change guide.md and publish a new version)`,
    found: 'a hand edit since it was published',
  };
}
