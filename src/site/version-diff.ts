// "What changed since vN-1" on a version's page and in the guides feed: the comparison of a version
// with the one before it (compose/guide-diff.ts), shaped for the what-changed partial. Everything in
// it is plain text the template escapes; which runs were added or removed is only an `op`.
import { diffGuides, hasChanges, summariseChanges, type BlockChange, type GuideDiff, type TextPart } from '../compose/guide-diff.ts';
import type { Guide, GuideVersion, Site } from '../content/model.ts';
import { guideOutline } from '../render/guide-outline.ts';

export interface BlockView {
  op: BlockChange['op'];
  code: boolean;
  parts: TextPart[];
}

/** A changed section shows its changed blocks and, between them, how many were left as they were. */
export type BlockRow = { block: BlockView } | { unchanged: number };

export interface SectionView {
  op: 'added' | 'removed' | 'changed';
  label: string;
  title: string;
  oldTitle?: string;
  moved: boolean;
  /** The section's anchor on this page; none for a removed section or the text before the first heading. */
  anchor?: string;
  rows: BlockRow[];
}

export interface WhatChangedView {
  since: number;
  sinceHref: string;
  note: string;
  summary: string;
  empty: boolean;
  title?: TextPart[];
  tldr?: TextPart[];
  sections: SectionView[];
  unchanged: { title: string; anchor: string }[];
  takeaways: { added: string[]; removed: string[] };
  timeline: { added: string[]; removed: string[] };
  faq: { op: 'added' | 'removed' | 'changed'; label: string; q: string; parts: TextPart[] }[];
}

const diffs = new WeakMap<GuideVersion, GuideDiff>();

/** Where pure results are kept between builds (the build cache's `remember`). */
export interface ResultCache {
  remember<T extends NonNullable<unknown>>(kind: string, input: string, compute: () => T): T;
}

const DIFF_KIND = 'version-diff';

/**
 * Every published version's comparison with the one before, from `cache` when an earlier build made
 * it: it is a pure function of the two frozen texts, which their SHA-256 (checked when loaded) names.
 * A rebuild then parses no frozen version again to compare it.
 */
export function rememberVersionDiffs(site: Site, cache: ResultCache): void {
  for (const guide of site.guides) {
    guide.versions.forEach((version, i) => {
      const previous = guide.versions[i - 1];
      if (!previous || diffs.has(version)) return;
      const key = `${previous.entry.sha256} ${version.entry.sha256}`;
      diffs.set(version, cache.remember(DIFF_KIND, key, () => diffGuides(guideOutline(previous.doc), guideOutline(version.doc))));
    });
  }
}

/** The comparison of `version` with the version before it; undefined for a first version. */
export function versionDiff(guide: Guide, version: GuideVersion): GuideDiff | undefined {
  const previous = guide.versions[version.version - 2];
  if (!previous || previous === version) return undefined;
  let diff = diffs.get(version);
  if (!diff) diffs.set(version, (diff = diffGuides(guideOutline(previous.doc), guideOutline(version.doc))));
  return diff;
}

/** One line for a feed entry: "What changed since v1: 2 sections changed, 1 takeaway added." */
export function changeSummary(guide: Guide, version: GuideVersion): string | undefined {
  const diff = versionDiff(guide, version);
  return diff && `What changed since v${version.version - 1}: ${summariseChanges(diff)}.`;
}

const SECTION_LABEL = { added: 'Added section', removed: 'Removed section', changed: 'Changed section' } as const;
const FAQ_LABEL = { added: 'Added', removed: 'Removed', changed: 'Answer changed' } as const;

export function whatChangedView(guide: Guide, version: GuideVersion, versionHref: (n: number) => string): WhatChangedView | undefined {
  const diff = versionDiff(guide, version);
  if (!diff) return undefined;
  const sections: SectionView[] = [];
  const unchanged: { title: string; anchor: string }[] = [];
  for (const s of diff.sections) {
    if (s.op === 'same') {
      if (s.id) unchanged.push({ title: s.title, anchor: s.id });
      continue;
    }
    sections.push({
      op: s.op,
      label: SECTION_LABEL[s.op],
      title: s.title || 'Introduction',
      ...(s.oldTitle !== undefined ? { oldTitle: s.oldTitle } : {}),
      moved: s.moved,
      ...(s.op !== 'removed' && s.id ? { anchor: s.id } : {}),
      rows: rows(s.blocks, s.op === 'changed'),
    });
  }
  const entries = (list: readonly { op: string; text: string }[]) => ({
    added: list.filter((e) => e.op === 'added').map((e) => e.text),
    removed: list.filter((e) => e.op === 'removed').map((e) => e.text),
  });
  return {
    since: version.version - 1,
    sinceHref: versionHref(version.version - 1),
    note: version.note,
    summary: summariseChanges(diff),
    empty: !hasChanges(diff),
    ...(diff.title ? { title: diff.title } : {}),
    ...(diff.tldr ? { tldr: diff.tldr } : {}),
    sections,
    unchanged,
    takeaways: entries(diff.takeaways),
    timeline: entries(diff.timeline),
    faq: diff.faq.flatMap((f) => (f.op === 'same' ? [] : [{ op: f.op, label: FAQ_LABEL[f.op], q: f.q, parts: f.parts }])),
  };
}

/** Blocks as rows; in a changed section a run of unchanged blocks is one row that counts them. */
function rows(blocks: readonly BlockChange[], elide: boolean): BlockRow[] {
  const out: BlockRow[] = [];
  for (const b of blocks) {
    if (elide && b.op === 'same') {
      const last = out.at(-1);
      if (last && 'unchanged' in last) last.unchanged++;
      else out.push({ unchanged: 1 });
      continue;
    }
    const parts = b.op === 'changed' ? b.parts : [{ op: b.op, text: b.text }];
    out.push({ block: { op: b.op, code: b.kind === 'code', parts } });
  }
  return out;
}
