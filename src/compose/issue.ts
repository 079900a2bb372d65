// Composing an email issue: a pure function of the content, the configuration, the edition and the
// date. It picks the news of the issue's window, merges repeats of one story, ranks, caps, groups by
// topic and chooses the guides to feature. Rendering is another stage's job.
import type { Site } from '../content/model.ts';
import type { Level } from '../content/guide-schema.ts';
import { slugify } from '../content/slug.ts';
import type { Catalog, LiveGuide } from './catalog.ts';
import { editionConfig, issueWindow, slotOn, type Edition } from './slots.ts';
import { mergeNearDuplicates } from './duplicates.ts';
import { itemsOf, withoutRepeats, type EarlierIssue, type SentItem } from './repeats.ts';
import { alsoCovered, byImportance, compareText, groupStories, type Story } from './stories.ts';
import { chooseStories } from './notes.ts';
import type { IssueNotes } from '../content/issue-notes.ts';
import type { Problem } from '../content/problems.ts';

export interface IssueStory {
  id: string;
  title: string;
  url: string;
  source: string;
  score: number;
  published: number;
  summary: string;
  topic: string;
  /**
   * Other outlets with the same story, at most ALSO_MAX of them: each with its own URL for it, or
   * none when all that is known is the lead's URL in another form (then only the name is shown).
   */
  also: { source: string; url?: string }[];
  /** How many more outlets covered it beyond those listed. */
  alsoMore: number;
}

export interface IssueGuide {
  slug: string;
  title: string;
  tldr: string;
  level: Level;
  version: number;
  published: number;
  /** "New guide", "Updated · v2", or "Guide" for one chosen by topic. */
  label: string;
  /** An updated guide's publish note, as a sentence. */
  note?: string;
  kind: 'new' | 'updated' | 'related';
  /** Its lead figure as the email shows it (added when the issue is prepared, from an https site only). */
  image?: { src: string; alt: string; width: number; height: number };
}

export interface ComposedIssue {
  id: string;
  edition: Edition;
  editionLabel: string;
  date: string;
  /** The scheduled instant this issue belongs to. */
  scheduledAt: number;
  window: { from: number; to: number };
  top: IssueStory;
  /** The other stories, grouped by primary topic, groups in the order of their best story. */
  groups: { topic: string; stories: IssueStory[] }[];
  /** Guides featured in this issue: new and updated ones first. */
  guides: IssueGuide[];
  /** Sunday only: guides published or updated in the seven days to this issue, newest first, at most WEEK_GUIDES_MAX. */
  weekGuides: IssueGuide[];
  /** How many more the week had beyond those listed. */
  weekGuidesMore: number;
  /** Stories in the window before the edition's cap was applied (those that went out earlier left out). */
  available: number;
  /** What the editor's notes file said, when there was one (stored with the issue, so a sent issue keeps it). */
  notes?: AppliedNotes;
  /**
   * Every news item the issue carries, to tell later issues what went out (see repeats.ts). Absent
   * in issues stored before it was kept.
   */
  items?: SentItem[];
}

export interface AppliedNotes {
  file: string;
  /** The editor's intro, Markdown (empty when none). */
  intro: string;
  subject?: string;
  preheader?: string;
  /** Titles of the stories pinned and dropped, in the notes' order. */
  pinned: string[];
  dropped: string[];
}

export type ComposeResult =
  | { ok: true; issue: Omit<ComposedIssue, 'id'> }
  | { ok: false; reason: 'not-scheduled' | 'empty'; window?: { from: number; to: number }; repeats?: number }
  | { ok: false; reason: 'notes'; problems: Problem[] };

const FEATURED_GUIDES = 3;
const WEEK_GUIDES_MAX = 10;
const WEEK = 7 * 24 * 3600_000;

/**
 * `limit` keeps fewer stories than the edition's `maxItems`: the build uses it to leave out the
 * lowest-ranked ones when an issue would be too large for the inbox. `earlier` are the issues that
 * started going out: their stories are not told again unless edited (see repeats.ts).
 */
export function composeIssue(
  site: Site,
  catalog: Catalog,
  edition: Edition,
  date: string,
  limit = Infinity,
  earlier: readonly EarlierIssue[] = [],
  notes?: IssueNotes,
): ComposeResult {
  const { config } = site;
  const slot = slotOn(config, edition, date);
  if (slot === undefined) return { ok: false, reason: 'not-scheduled' };
  const window = issueWindow(config, slot);
  const inWindow = site.news.filter((n) => n.published > window.from && n.published <= window.to);
  const all = mergeNearDuplicates(groupStories(inWindow)).sort(byImportance);
  const { fresh, repeats } = withoutRepeats(all, earlier, slot);
  let stories = fresh;
  let applied: AppliedNotes | undefined;
  if (notes) {
    const chosen = chooseStories(all, fresh, { file: notes.file, pin: notes.pin, drop: notes.drop });
    const unknown = unknownGuides(catalog, notes);
    if (chosen.problems.length || unknown.length) return { ok: false, reason: 'notes', problems: [...chosen.problems, ...unknown] };
    stories = chosen.stories;
    applied = {
      file: notes.file,
      intro: notes.intro,
      ...(notes.subject ? { subject: notes.subject } : {}),
      ...(notes.preheader ? { preheader: notes.preheader } : {}),
      pinned: chosen.pinned.map((s) => s.lead.title),
      dropped: chosen.dropped.map((s) => s.lead.title),
    };
  }
  if (stories.length === 0) return { ok: false, reason: 'empty', window, repeats };

  const kept = stories.slice(0, Math.max(1, Math.min(editionConfig(config, edition).maxItems, limit)));
  const chosen = kept.map(toIssueStory);
  const [top, ...rest] = chosen as [IssueStory, ...IssueStory[]];
  const topics = topicWeights(chosen);
  const guides = notes?.guides.length ? notedGuides(catalog, notes.guides) : featuredGuides(catalog, window, topics);
  // A guide appears once per issue: one featured above is not listed again in the week's guides.
  const featured = new Set(guides.map((g) => g.slug));
  const week = edition === 'sunday' ? changedGuides(catalog, { from: slot - WEEK, to: slot }).filter((g) => !featured.has(g.slug)) : [];
  return {
    ok: true,
    issue: {
      edition,
      editionLabel: editionConfig(config, edition).label,
      date,
      scheduledAt: slot,
      window,
      top,
      groups: groupByTopic(rest),
      guides,
      weekGuides: week.slice(0, WEEK_GUIDES_MAX),
      weekGuidesMore: Math.max(0, week.length - WEEK_GUIDES_MAX),
      available: stories.length,
      items: itemsOf(kept),
      ...(applied ? { notes: applied } : {}),
    },
  };
}

/**
 * The stories an editor can pick from for an issue's notes: those the issue would carry, in the
 * order they would run, then the rest of the window's new stories, ranked, that the cap leaves out.
 */
export function issueCandidates(
  site: Site,
  catalog: Catalog,
  edition: Edition,
  date: string,
  earlier: readonly EarlierIssue[] = [],
): { running: IssueStory[]; more: IssueStory[] } | undefined {
  const composed = composeIssue(site, catalog, edition, date, Infinity, earlier);
  if (!composed.ok) return composed.reason === 'empty' ? { running: [], more: [] } : undefined;
  const running = [composed.issue.top, ...composed.issue.groups.flatMap((g) => g.stories)];
  const slot = composed.issue.scheduledAt;
  const { window } = composed.issue;
  const inWindow = site.news.filter((n) => n.published > window.from && n.published <= window.to);
  const shown = new Set(running.map((s) => s.id));
  const { fresh } = withoutRepeats(mergeNearDuplicates(groupStories(inWindow)).sort(byImportance), earlier, slot);
  return { running, more: fresh.map(toIssueStory).filter((s) => !shown.has(s.id)) };
}

const ALSO_MAX = 4;

function toIssueStory(story: Story): IssueStory {
  const { lead } = story;
  const also = alsoCovered(story);
  return {
    id: lead.id,
    title: lead.title,
    url: lead.url,
    source: lead.source,
    score: lead.score,
    published: lead.published,
    summary: lead.summary,
    topic: lead.topics[0] ?? 'More news',
    also: also.slice(0, ALSO_MAX),
    alsoMore: Math.max(0, also.length - ALSO_MAX),
  };
}

// --- grouping and guides --------------------------------------------------------------------------

function groupByTopic(stories: IssueStory[]): { topic: string; stories: IssueStory[] }[] {
  const groups = new Map<string, { topic: string; stories: IssueStory[] }>();
  for (const story of stories) {
    // Topics whose names have no Latin letters or digits all slugify to "": tell them apart by name.
    const key = slugify(story.topic) || `\u0000${story.topic.normalize('NFKC').toLowerCase()}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { topic: story.topic, stories: [] }));
    group.stories.push(story);
  }
  // Stories arrive ranked, so each group's first story is its best, and Map keeps first-seen order.
  return [...groups.values()];
}

function topicWeights(stories: IssueStory[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const s of stories) weights.set(slugify(s.topic), (weights.get(slugify(s.topic)) ?? 0) + s.score);
  return weights;
}

function changedGuides(catalog: Catalog, window: { from: number; to: number }): IssueGuide[] {
  const out: IssueGuide[] = [];
  for (const g of catalog.active) {
    // The newest version inside the window says what happened to the guide in it.
    const v = [...g.guide.versions].reverse().find((x) => x.published > window.from && x.published <= window.to);
    if (!v) continue;
    if (v.version === 1) out.push(issueGuide(g, v.version, v.published, 'new', 'New guide'));
    else out.push({ ...issueGuide(g, v.version, v.published, 'updated', `Updated · v${v.version}`), ...noteOf(v.note) });
  }
  return out.sort((a, b) => b.published - a.published || compareText(a.slug, b.slug));
}

function featuredGuides(catalog: Catalog, window: { from: number; to: number }, topics: Map<string, number>): IssueGuide[] {
  const changed = changedGuides(catalog, window).slice(0, FEATURED_GUIDES);
  if (changed.length > 0) return changed;
  // Nothing new: the guide that best explains this issue's news.
  let best: { g: LiveGuide; weight: number } | undefined;
  for (const g of catalog.active) {
    if (g.latest.published > window.to) continue;
    const weight = g.topicSlugs.reduce((sum, t, i) => sum + (topics.get(t) ?? 0) * (i === 0 ? 2 : 1), 0);
    if (weight > 0 && (!best || weight > best.weight)) best = { g, weight };
  }
  return best ? [issueGuide(best.g, best.g.latest.version, best.g.latest.published, 'related', 'Guide')] : [];
}

/** The guides the editor named, in their order, at their latest version. */
function notedGuides(catalog: Catalog, slugs: readonly string[]): IssueGuide[] {
  return [...new Set(slugs)].map((slug) => {
    const g = catalog.active.find((x) => x.guide.slug === slug)!;
    return issueGuide(g, g.latest.version, g.latest.published, 'related', 'Guide');
  });
}

function unknownGuides(catalog: Catalog, notes: IssueNotes): Problem[] {
  const known = new Set(catalog.active.map((g) => g.guide.slug));
  return notes.guides.flatMap((slug, i) =>
    known.has(slug)
      ? []
      : [{ file: notes.file, field: `guides[${i}]`, expected: 'the slug of a published, active guide (a folder in content/guides/)', found: `"${slug}"` }],
  );
}

function issueGuide(g: LiveGuide, version: number, published: number, kind: IssueGuide['kind'], label: string): IssueGuide {
  const v = g.guide.versions[version - 1]!;
  const front = v.doc.front;
  return { slug: g.guide.slug, title: front.title, tldr: front.tldr, level: front.level, version, published, label, kind };
}

/** A publish note as a sentence: trimmed, on one line, a capital first letter and a closing stop. */
export function noteSentence(note: string): string {
  const text = note.replace(/\s+/g, ' ').trim();
  if (!text) return '';
  const first = text[0]!.toLocaleUpperCase('en') + text.slice(1);
  return /[.!?…]["'”’)]?$/.test(first) ? first : `${first}.`;
}

function noteOf(note: string | undefined): { note?: string } {
  const sentence = noteSentence(note ?? '');
  return sentence ? { note: sentence } : {};
}
