// What changed between two versions of a guide, as data: sections (by heading) added, removed or
// changed, and inside a changed section each block of text with its word changes; takeaways,
// timeline and FAQ entries added or removed. Works on plain text (see render/guide-outline.ts), so
// nothing here is markup and the page escapes all of it. Pure and deterministic: jsdiff on the same
// two outlines gives the same result, in the order of the newer version.
import { createRequire } from 'node:module';
import type * as Jsdiff from 'diff';

// jsdiff is loaded on first use, not with this module: most builds compare no versions, and loading
// it is a noticeable part of the build command's start-up (see render/markdown.ts for markdown-it).
const loadPackage = createRequire(import.meta.url);
let jsdiff: typeof Jsdiff | undefined;
const lib = (): typeof Jsdiff => (jsdiff ??= loadPackage('diff') as typeof Jsdiff);

/** A block of a section as a reader sees it: a paragraph, list item, heading, table row, or code. */
export interface OutlineBlock {
  kind: 'prose' | 'code';
  text: string;
}

/** A `##` section; the text before the first heading is a section with the id "" and no title. */
export interface OutlineSection {
  id: string;
  title: string;
  blocks: OutlineBlock[];
}

/** A guide version as plain text, in the order the page shows it. */
export interface GuideOutline {
  title: string;
  tldr: string;
  sections: OutlineSection[];
  takeaways: string[];
  /** Each entry as "date: event". */
  timeline: string[];
  faq: { q: string; a: string }[];
}

/** A run of text: in both versions, only in the newer one, or only in the older one. */
export interface TextPart {
  op: 'same' | 'added' | 'removed';
  text: string;
}

export type BlockChange =
  | { op: 'same' | 'added' | 'removed'; kind: OutlineBlock['kind']; text: string }
  | { op: 'changed'; kind: OutlineBlock['kind']; parts: TextPart[] };

export interface SectionChange {
  op: 'same' | 'added' | 'removed' | 'changed';
  id: string;
  /** The title in the newer version (the older one's for a removed section). */
  title: string;
  /** The older title, when a kept section's heading was reworded without changing its anchor. */
  oldTitle?: string;
  /** A kept section now at another place among the others. */
  moved: boolean;
  blocks: BlockChange[];
}

export interface EntryChange {
  op: 'same' | 'added' | 'removed';
  text: string;
}

export interface FaqChange {
  op: 'same' | 'added' | 'removed' | 'changed';
  q: string;
  /** The answer, or for a changed answer its word changes. */
  parts: TextPart[];
}

export interface GuideDiff {
  /** Word changes of the title and the TL;DR; undefined when unchanged. */
  title?: TextPart[];
  tldr?: TextPart[];
  /** Every section of both versions: the newer version's in its order, removed ones where they were. */
  sections: SectionChange[];
  takeaways: EntryChange[];
  timeline: EntryChange[];
  faq: FaqChange[];
}

export interface DiffCounts {
  sections: { added: number; removed: number; changed: number };
  takeaways: { added: number; removed: number };
  timeline: { added: number; removed: number };
  faq: { added: number; removed: number; changed: number };
  title: boolean;
  tldr: boolean;
}

/** Below this share of text in common (see similarity), a paragraph is shown as removed and another added, not as edited. */
const SIMILAR = 0.4;

export function diffGuides(older: GuideOutline, newer: GuideOutline): GuideDiff {
  return {
    title: older.title === newer.title ? undefined : diffText(older.title, newer.title),
    tldr: older.tldr === newer.tldr ? undefined : diffText(older.tldr, newer.tldr),
    sections: diffSections(older.sections, newer.sections),
    takeaways: diffEntries(older.takeaways, newer.takeaways),
    timeline: diffEntries(older.timeline, newer.timeline),
    faq: diffFaq(older.faq, newer.faq),
  };
}

/** Word changes from `a` to `b`; whitespace is kept as tokens, so each side joins back exactly. */
export function diffText(a: string, b: string): TextPart[] {
  return lib().diffWordsWithSpace(a, b).map((c) => ({ op: c.added ? 'added' : c.removed ? 'removed' : 'same', text: c.value }));
}

function diffSections(older: readonly OutlineSection[], newer: readonly OutlineSection[]): SectionChange[] {
  const oldById = new Map(older.map((s) => [s.id, s]));
  const newById = new Map(newer.map((s) => [s.id, s]));
  const out: SectionChange[] = [];
  for (const change of lib().diffArrays(older.map((s) => s.id), newer.map((s) => s.id))) {
    for (const id of change.value) {
      if (change.removed) {
        // A section that moved is shown once, where it is now.
        if (!newById.has(id)) out.push(wholeSection('removed', oldById.get(id)!));
      } else if (change.added && !oldById.has(id)) {
        out.push(wholeSection('added', newById.get(id)!));
      } else {
        out.push(keptSection(oldById.get(id)!, newById.get(id)!, Boolean(change.added)));
      }
    }
  }
  return out;
}

function wholeSection(op: 'added' | 'removed', s: OutlineSection): SectionChange {
  return { op, id: s.id, title: s.title, moved: false, blocks: s.blocks.map((b) => ({ op, kind: b.kind, text: b.text })) };
}

function keptSection(a: OutlineSection, b: OutlineSection, moved: boolean): SectionChange {
  const blocks = diffBlocks(a.blocks, b.blocks);
  const same = a.title === b.title && blocks.every((x) => x.op === 'same');
  return {
    op: same ? 'same' : 'changed',
    id: b.id,
    title: b.title,
    ...(a.title === b.title ? {} : { oldTitle: a.title }),
    moved,
    blocks,
  };
}

/** Blocks aligned as wholes; a removed block followed by an added one that shares most of its words is an edit. */
function diffBlocks(older: readonly OutlineBlock[], newer: readonly OutlineBlock[]): BlockChange[] {
  const out: BlockChange[] = [];
  const changes = lib().diffArrays([...older], [...newer], { comparator: (x, y) => x.kind === y.kind && x.text === y.text });
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!;
    if (!change.added && !change.removed) {
      for (const b of change.value) out.push({ op: 'same', kind: b.kind, text: b.text });
      continue;
    }
    const removed = change.removed ? change.value : [];
    const next = changes[i + 1];
    const added = change.added ? change.value : next?.added ? next.value : [];
    if (change.removed && next?.added) i++;
    const pairs = Math.min(removed.length, added.length);
    for (let k = 0; k < Math.max(removed.length, added.length); k++) {
      const a = removed[k];
      const b = added[k];
      if (k < pairs && a!.kind === b!.kind) {
        const parts = diffText(a!.text, b!.text);
        if (similarity(parts) >= SIMILAR) {
          out.push({ op: 'changed', kind: b!.kind, parts });
          continue;
        }
      }
      if (a) out.push({ op: 'removed', kind: a.kind, text: a.text });
      if (b) out.push({ op: 'added', kind: b.kind, text: b.text });
    }
  }
  return out;
}

/**
 * The share of the shorter side's non-space characters the two sides have in common: a paragraph or
 * code block that was only added to (or only cut) reads as an edit, however much was added.
 */
function similarity(parts: readonly TextPart[]): number {
  let same = 0;
  let added = 0;
  let removed = 0;
  for (const p of parts) {
    const n = p.text.replace(/\s+/g, '').length;
    if (p.op === 'same') same += n;
    else if (p.op === 'added') added += n;
    else removed += n;
  }
  const shorter = Math.min(same + added, same + removed);
  return shorter === 0 ? 0 : same / shorter;
}

function diffEntries(older: readonly string[], newer: readonly string[]): EntryChange[] {
  return lib().diffArrays([...older], [...newer]).flatMap((c) =>
    c.value.map((text) => ({ op: c.added ? ('added' as const) : c.removed ? ('removed' as const) : ('same' as const), text })),
  );
}

/**
 * FAQ entries by question: a question kept with a new answer is a changed entry. A question asked
 * twice is told apart by its place among the entries that ask it (the first "Why?", the second).
 */
function diffFaq(older: readonly { q: string; a: string }[], newer: readonly { q: string; a: string }[]): FaqChange[] {
  const oldEntries = keyedFaq(older);
  const newEntries = keyedFaq(newer);
  const out: FaqChange[] = [];
  for (const change of lib().diffArrays([...oldEntries.keys()], [...newEntries.keys()])) {
    for (const key of change.value) {
      const before = oldEntries.get(key);
      const after = newEntries.get(key);
      if (change.removed) {
        if (!after) out.push({ op: 'removed', q: before!.q, parts: [{ op: 'removed', text: before!.a }] });
        continue;
      }
      const { q, a } = after!;
      if (before === undefined) out.push({ op: 'added', q, parts: [{ op: 'added', text: a }] });
      else if (before.a === a) out.push({ op: 'same', q, parts: [{ op: 'same', text: a }] });
      else out.push({ op: 'changed', q, parts: diffText(before.a, a) });
    }
  }
  return out;
}

/** Entries by a key unique within the list: the question, and how many times it was asked before. */
function keyedFaq(list: readonly { q: string; a: string }[]): Map<string, { q: string; a: string }> {
  const asked = new Map<string, number>();
  const out = new Map<string, { q: string; a: string }>();
  for (const f of list) {
    const n = asked.get(f.q) ?? 0;
    asked.set(f.q, n + 1);
    out.set(`${n}\u0000${f.q}`, f);
  }
  return out;
}

export function countChanges(diff: GuideDiff): DiffCounts {
  const count = <T extends { op: string }>(list: readonly T[], op: string) => list.filter((x) => x.op === op).length;
  return {
    sections: { added: count(diff.sections, 'added'), removed: count(diff.sections, 'removed'), changed: count(diff.sections, 'changed') },
    takeaways: { added: count(diff.takeaways, 'added'), removed: count(diff.takeaways, 'removed') },
    timeline: { added: count(diff.timeline, 'added'), removed: count(diff.timeline, 'removed') },
    faq: { added: count(diff.faq, 'added'), removed: count(diff.faq, 'removed'), changed: count(diff.faq, 'changed') },
    title: diff.title !== undefined,
    tldr: diff.tldr !== undefined,
  };
}

/** Whether anything a reader would see differs. */
export function hasChanges(diff: GuideDiff): boolean {
  return (
    diff.title !== undefined ||
    diff.tldr !== undefined ||
    [diff.sections, diff.takeaways, diff.timeline, diff.faq].some((list: readonly { op: string }[]) => list.some((x) => x.op !== 'same'))
  );
}

/** "2 sections changed, 1 takeaway added": every count that is not zero, in the page's order. */
export function summariseChanges(diff: GuideDiff): string {
  const c = countChanges(diff);
  const phrases: string[] = [];
  const add = (n: number, one: string, many: string, what: string) => {
    if (n > 0) phrases.push(`${n} ${n === 1 ? one : many} ${what}`);
  };
  if (c.title) phrases.push('title changed');
  if (c.tldr) phrases.push('TL;DR changed');
  add(c.sections.added, 'section', 'sections', 'added');
  add(c.sections.changed, 'section', 'sections', 'changed');
  add(c.sections.removed, 'section', 'sections', 'removed');
  add(c.takeaways.added, 'takeaway', 'takeaways', 'added');
  add(c.takeaways.removed, 'takeaway', 'takeaways', 'removed');
  add(c.timeline.added, 'timeline entry', 'timeline entries', 'added');
  add(c.timeline.removed, 'timeline entry', 'timeline entries', 'removed');
  add(c.faq.added, 'FAQ entry', 'FAQ entries', 'added');
  add(c.faq.changed, 'FAQ answer', 'FAQ answers', 'changed');
  add(c.faq.removed, 'FAQ entry', 'FAQ entries', 'removed');
  return phrases.length === 0 ? 'no change to the text' : phrases.join(', ');
}
