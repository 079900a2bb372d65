// Two different topics must not share a page: "C" and "C." both have the slug "c", and would merge
// silently into one topic page. Names that are the same topic (see topicKey) are not a collision.
import type { Site } from '../content/model.ts';
import type { Problem } from '../content/problems.ts';
import { slugify, topicKey } from '../content/slug.ts';

export function topicCollisions(site: Site): Problem[] {
  const first = new Map<string, { name: string; key: string; file: string }>();
  const problems: Problem[] = [];
  const reported = new Set<string>();
  const see = (name: string, file: string, field: string) => {
    const slug = slugify(name);
    if (!slug) return;
    const key = topicKey(name);
    const seen = first.get(slug);
    if (!seen) {
      first.set(slug, { name, key, file });
      return;
    }
    if (seen.key === key || reported.has(`${slug}\n${key}`)) return;
    reported.add(`${slug}\n${key}`);
    problems.push({
      file,
      field,
      expected: `a topic whose address differs from "${seen.name}" in ${seen.file} (both would be /topics/${slug}/); rename one of them`,
      found: JSON.stringify(name),
    });
  };
  for (const guide of site.guides) {
    const latest = guide.versions.at(-1);
    if (!latest) continue;
    for (const name of latest.doc.front.topics) see(name, latest.file, 'topics');
    for (const name of latest.doc.front.related) see(name, latest.file, 'related');
  }
  for (const item of site.news) for (const name of item.topics) see(name, item.file, 'topics');
  return problems;
}
