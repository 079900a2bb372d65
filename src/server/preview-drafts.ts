// What the preview shows, as of the last reload: the site with its working copies, its templates,
// and the next issue of each edition, built on first request and kept until something changes. A
// content or template error is kept as problems, so the preview shows them instead of stopping.
import { readIssueNotes } from '../content/issue-notes.ts';
import path from 'node:path';
import { buildCatalog, indexNews, type NewsIndex } from '../compose/catalog.ts';
import { isEdition, localDate, nextSlot, type Edition } from '../compose/slots.ts';
import { editionLabel } from '../words/labels.ts';
import { loadGuide } from '../content/guide-files.ts';
import { GUIDES_DIR, WORKING_COPY } from '../content/paths.ts';
import { loadSite } from '../content/load.ts';
import type { Site } from '../content/model.ts';
import { ContentError, ProblemError, type Problem } from '../content/problems.ts';
import { readText } from '../content/text.ts';
import { checkIssueEmail, issueId, prepareIssue, type PreparedIssue } from '../issue/prepare.ts';
import { issuesSentFrom } from '../issue/earlier.ts';
import { clientSupport, spamCheck, type ThoroughResult } from '../issue/thorough-checks.ts';
import { clientFindings } from '../mail/client-support.ts';
import { TemplateSet } from '../render/templates.ts';
import { IssueStore, type StoredIssueFiles } from '../store/issues.ts';

/** An issue as the viewer shows it: prepared, or the problems that keep it from being built. */
export type ViewedIssue = PreparedIssue | { problems: Problem[] };

interface State {
  site?: Site;
  /** The site's stories by topic, kept while only guides change (grouping 10,000 items is the slow part). */
  news?: NewsIndex;
  siteTemplates?: TemplateSet;
  emailTemplates?: TemplateSet;
  problems?: Problem[];
  /** A Map, not an object: an edition may be named "constructor", which every object has. */
  issues: Map<Edition, PreparedIssue | Problem[]>;
}

export class Drafts {
  private state: State = { issues: new Map() };
  private readonly spam = new WeakMap<PreparedIssue, { done?: ThoroughResult }>();
  /** Told when an issue's slower checks are done (the preview reloads open pages). */
  onChecked?: () => void;

  constructor(
    private readonly root: string,
    private readonly clock: () => number,
  ) {}

  /** The loaded site; only read after a reload without problems. */
  get site(): Site {
    return this.state.site!;
  }

  get news(): NewsIndex | undefined {
    return this.state.news;
  }

  get siteTemplates(): TemplateSet {
    return this.state.siteTemplates!;
  }

  get problems(): Problem[] | undefined {
    return this.state.problems;
  }

  /** Reloads what `rel` (a path below the root) touches: one guide when a working copy was saved, everything otherwise. */
  async reload(rel?: string): Promise<void> {
    const guideMatch = rel && new RegExp(`^${GUIDES_DIR}/([^/]+)/${WORKING_COPY}$`).exec(rel);
    try {
      if (guideMatch && this.state.site && !this.state.problems) {
        const { guide, problems } = loadGuide(this.root, guideMatch[1]!);
        if (!guide) throw new ContentError(problems);
        const site = this.state.site;
        this.state.site = { ...site, guides: site.guides.map((g) => (g.slug === guide.slug ? guide : g)) };
      } else {
        const [site, siteTemplates, emailTemplates] = await Promise.all([
          loadSite(this.root),
          TemplateSet.load(this.root, 'site'),
          TemplateSet.load(this.root, 'email'),
        ]);
        this.state = { site, news: indexNews(site), siteTemplates, emailTemplates, issues: new Map() };
      }
      this.state.problems = undefined;
      this.state.issues = new Map();
    } catch (err) {
      if (!(err instanceof ContentError)) throw err;
      this.state.problems = err.problems as Problem[];
    }
  }

  /** The issues built so far, as stored. */
  pastIssues(): StoredIssueFiles[] {
    return new IssueStore(this.root).list();
  }

  /** The next issue of an edition, or a past one by id, with the title the viewer shows. */
  async issue(key: string): Promise<{ issue: ViewedIssue; title: string } | undefined> {
    if (isEdition(this.site.config, key)) return { issue: await this.nextIssue(key), title: `Next ${editionLabel(this.site.config, key)}` };
    const past = await this.pastIssue(key);
    return past && { issue: past, title: `${past.issue.editionLabel} #${past.issue.number}, as built` };
  }

  /** A file below the root as it is now; empty if it is gone (the watcher reloads the guide right after). */
  text(file: string): string {
    try {
      // Decoded as the loader decodes it, so that a byte order mark is no difference.
      return readText(path.join(this.root, file), file)?.text ?? '';
    } catch {
      return '';
    }
  }

  /**
   * The issue with the checks only the viewer shows: client support (of the next issues: today's
   * templates made them) and the spam score. SpamAssassin takes seconds, so it runs once per issue in
   * the background; until it is done the panel says so, and `onChecked` tells open viewers to reload.
   */
  withSlowChecks(key: string, issue: PreparedIssue): PreparedIssue {
    let spam = this.spam.get(issue);
    if (!spam) {
      const started: { done?: ThoroughResult } = {};
      spam = started;
      this.spam.set(issue, started);
      void spamCheck(this.site.config, issue.sampleMime).then(
        (result) => {
          started.done = result;
          this.onChecked?.();
        },
        (err: Error) => {
          started.done = { findings: [{ check: 'spam-score', severity: 'warning', expected: 'a score from SpamAssassin', found: err.message }], notes: [] };
          this.onChecked?.();
        },
      );
    }
    const templates = isEdition(this.site.config, key) ? this.state.emailTemplates : undefined;
    const client = templates ? clientFindings(clientSupport(templates)) : [];
    const done = spam.done ?? { findings: [], notes: ['spam score: SpamAssassin is still scoring this issue; this panel updates when it is done'] };
    return { ...issue, findings: [...issue.findings, ...client, ...done.findings], notes: [...(issue.notes ?? []), ...done.notes] };
  }

  private async nextIssue(edition: Edition): Promise<ViewedIssue> {
    const cached = this.state.issues.get(edition);
    if (cached) return Array.isArray(cached) ? { problems: cached } : cached;
    const site = this.site;
    const date = localDate(site.config, nextSlot(site.config, edition, this.clock() - 1));
    const id = issueId(edition, date);
    try {
      const prepared = await prepareIssue({ site, catalog: buildCatalog(site), templates: this.state.emailTemplates!, edition, date, number: new IssueStore(this.root).numberFor(id), now: this.clock(), earlier: issuesSentFrom(this.root), notes: readIssueNotes(this.root, id) });
      this.state.issues.set(edition, prepared);
      return prepared;
    } catch (err) {
      const problems = err instanceof ProblemError ? (err.problems as Problem[]) : [{ file: `issue ${id}`, expected: 'an issue that builds', found: (err as Error).message }];
      this.state.issues.set(edition, problems);
      return { problems };
    }
  }

  /** A built issue from the store, checked as it was stored. */
  private async pastIssue(id: string): Promise<PreparedIssue | undefined> {
    const stored = new IssueStore(this.root).get(id);
    if (!stored) return undefined;
    const { findings, sampleMime } = await checkIssueEmail(this.site.config, stored.issue, stored, this.state.emailTemplates);
    return { issue: stored.issue, email: { html: stored.html, text: stored.text, mjml: '' }, findings, sampleMime };
  }
}
