// The preview's own pages, script and style, from Almanac's templates/preview/: read and compiled
// once when the preview starts. They are the tool's, not the site's: a site's templates/ does not
// replace them, and the site build never publishes them.
import { createTwoFilesPatch } from 'diff';
import { editionNames } from '../compose/slots.ts';
import { editionLabel } from '../words/labels.ts';
import type { Guide, NewsItem, Site } from '../content/model.ts';
import { weekdayTimeZone } from '../words/dates.ts';
import { formatProblem, type Problem } from '../content/problems.ts';
import { differsFromLatest } from '../content/publish.ts';
import type { PreparedIssue } from '../issue/prepare.ts';
import { personalise, sampleRecipient } from '../render/tokens.ts';
import { TemplateSet, builtInFiles, readTemplateFile } from '../render/templates.ts';
import type { StoredIssueFiles } from '../store/issues.ts';

/** What news fetch and news add brought since the last scheduled issue (`since`). */
export interface Arrived {
  since: number;
  items: { item: NewsItem; arrivedAt: number }[];
}

export class PreviewPages {
  private constructor(
    private readonly templates: TemplateSet,
    /** The live-reload client, served as /preview.js. */
    readonly script: Buffer,
    /** The preview's own styles, served as /preview.css. */
    readonly style: Buffer,
  ) {}

  static load(): PreviewPages {
    const files = builtInFiles('preview');
    const read = (rel: string) => readTemplateFile(files.find((f) => f.rel === rel)!);
    return new PreviewPages(TemplateSet.builtIn('preview'), read('preview/preview.js'), read('preview/preview.css'));
  }

  index(site: Site, past: readonly StoredIssueFiles[], arrived: Arrived = { since: 0, items: [] }): string {
    const tz = site.config.timezone;
    return this.templates.render('index', {
      since: weekdayTimeZone(arrived.since, tz),
      arrived: arrived.items.map(({ item, arrivedAt }) => ({ title: item.title, url: item.url, source: item.source, score: item.score, file: item.file, at: weekdayTimeZone(arrivedAt, tz) })),
      siteTitle: site.config.title,
      guides: site.guides.map((g) => ({ slug: g.slug, title: g.working.front.title, status: publishState(g) })),
      editions: editionNames(site.config).map((id) => ({ id, label: editionLabel(site.config, id) })),
      past: past.map(({ issue }) => ({ id: issue.id, label: issue.editionLabel, number: issue.number, subject: issue.subject })),
    });
  }

  /** The note above a working copy: what it will publish as, and its changes since the latest version. */
  banner(guide: Guide, latestText: string, workingText: string): string {
    const latest = guide.versions.at(-1)?.version;
    const patch = latest ? createTwoFilesPatch(`v${latest}`, 'working copy', latestText, workingText, '', '', { context: 2 }) : '';
    return this.templates.render('banner', { file: guide.file, next: (latest ?? 0) + 1, latest, patch, open: patch.split('\n').length > 5 });
  }

  viewer(key: string, title: string, issue: PreparedIssue, baseUrl: string): string {
    const { issue: meta, findings, email } = issue;
    return this.templates.render('viewer', {
      key,
      title,
      number: meta.number,
      date: meta.date,
      subject: meta.subject,
      preheader: meta.preheader,
      size: Buffer.byteLength(email.html).toLocaleString('en-US'),
      text: personalise(email.text, sampleRecipient(baseUrl)),
      source: email.html,
      findings,
      notes: issue.notes ?? [],
      // What the editor's notes file did to this issue.
      editor: meta.notes && { file: meta.notes.file, pinned: meta.notes.pinned, dropped: meta.notes.dropped, intro: meta.notes.intro !== '' },
    });
  }

  unbuildable(title: string, problems: readonly Problem[]): string {
    return this.templates.render('unbuildable', { title, problems: problems.map(formatProblem) });
  }

  problems(problems: readonly Problem[]): string {
    return this.templates.render('problems', { problems: problems.map(formatProblem) });
  }

  notFound(what: { issue?: string; guide?: string } = {}): string {
    return this.templates.render('not-found', what);
  }
}

function publishState(guide: Guide): string {
  const latest = guide.versions.at(-1);
  if (!latest) return 'not published yet';
  return differsFromLatest(guide) ? `changes since v${latest.version}` : `v${latest.version}, no changes`;
}
