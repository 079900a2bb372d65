// The issues on the website: an archive of past issues and each issue's web version, the page
// "view in browser" opens. They show what was sent, from the stored issue, not from today's content.
import type { IssueGuide } from '../compose/issue.ts';
import type { StoredIssue } from '../store/issues.ts';
import { longDate } from '../words/dates.ts';
import { cardOf, type Page, type PageContext } from './page-context.ts';
import { collectionJsonLd } from './structured-data.ts';

export function issuePages(ctx: PageContext, issues: readonly StoredIssue[]): Page[] {
  const { config } = ctx.site;
  const dateLabel = (i: StoredIssue) => longDate(i.scheduledAt, config.timezone);
  const storyCount = (i: StoredIssue) => 1 + i.groups.reduce((n, g) => n + g.stories.length, 0);
  const archiveMeta = ctx.meta('issues/', {
    title: 'Past issues',
    description: `Every ${ctx.siteMeta.editions} issue of ${config.title}.`,
    section: 'issues',
    lastmod: issues[0]?.scheduledAt,
  });
  archiveMeta.jsonLd = collectionJsonLd(
    ctx,
    { path: 'issues/', name: archiveMeta.title, description: archiveMeta.description },
    issues.map((i) => ({ name: `${i.editionLabel} #${i.number}: ${i.subject}`, url: `${config.baseUrl}/issues/${i.id}/` })),
    [{ name: 'Issues', path: 'issues/' }],
  );
  const archive = ctx.page('issues/', 'issues', archiveMeta, {
    issues: issues.map((i) => ({
      href: `issues/${i.id}/`,
      label: `${i.editionLabel} #${i.number}`,
      subject: i.subject,
      preheader: i.preheader,
      date: ctx.stamp(i.scheduledAt),
      dateLabel: dateLabel(i),
      stories: storyCount(i),
    })),
  });
  const guideLink = (g: IssueGuide) => ({ ...g, href: `guides/${g.slug}/` });
  const pages = issues.map((i) => {
    const path = `issues/${i.id}/`;
    const meta = ctx.meta(path, {
      title: `${i.editionLabel} #${i.number}: ${i.top.title}`,
      description: i.preheader,
      section: 'issues',
      lastmod: i.scheduledAt,
    });
    const stories = [i.top, ...i.groups.flatMap((g) => g.stories)].map((s) => ({ name: s.title, url: s.url }));
    meta.jsonLd = collectionJsonLd(ctx, { path, name: meta.title, description: meta.description }, stories, [
      { name: 'Issues', path: 'issues/' },
      { name: `${i.editionLabel} #${i.number}`, path },
    ]);
    return ctx.page(path, 'issue', meta, {
      issue: {
        label: `${i.editionLabel} #${i.number}`,
        dateLabel: dateLabel(i),
        date: ctx.stamp(i.scheduledAt),
        subject: i.subject,
        introHtml: i.notes?.intro ? ctx.summaryHtml(i.notes.intro) : '',
        stories: storyCount(i),
        top: cardOf(i.top, ctx.summaryHtml(i.top.summary), i.top.also, ctx),
        groups: i.groups.map((g) => ({
          topic: g.topic,
          href: ctx.topicLink(g.topic).href,
          cards: g.stories.map((s) => cardOf(s, ctx.summaryHtml(s.summary), s.also, ctx)),
        })),
        guides: i.guides.map(guideLink),
        weekGuides: i.weekGuides.map(guideLink),
        emailHref: `${path}email.html`,
        textHref: `${path}email.txt`,
      },
    });
  });
  return [archive, ...pages];
}
