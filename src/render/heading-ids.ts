// The ids a guide's headings cannot take: the page around the guide's text already has elements
// with them (the built-in layout and guide page). A heading named "Timeline", "FAQ" or "Subscribe"
// gets `timeline-1`, `faq-1`, `subscribe-1` instead, so the skip link, the contents, the header's
// Subscribe link and each aria-labelledby reach the one element they mean.
const PAGE_IDS = [
  'main',
  'guide-title',
  'tldr-title',
  'takeaways-title',
  'toc-title',
  'timeline',
  'related-topics-title',
  'faq',
  'subscribe',
  'stay-current-title',
  'subscribe-email',
  'versions-title',
  'related-guides-title',
  'more-on-title',
] as const;

/** markdown-it's environment for one guide body: markdown-it-anchor counts these ids as used. */
export function headingEnv(): { markdownItAnchor: { slugs: Record<string, boolean> } } {
  const slugs: Record<string, boolean> = {};
  for (const id of PAGE_IDS) slugs[id] = true;
  return { markdownItAnchor: { slugs } };
}
