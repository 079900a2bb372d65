// The editor's hand on an issue's stories: pinned ones first, in the order given, dropped ones left
// out. A URL names a story when it is, normalised, the story key of any of the story's items.
import type { Problem } from '../content/problems.ts';
import { normaliseUrl } from '../content/url.ts';
import type { Story } from './stories.ts';

export interface StoryChoices {
  file: string;
  pin: readonly string[];
  drop: readonly string[];
}

/**
 * `window`: every story in the window, ranked; `fresh`: those not sent before, ranked. A
 * pinned story runs even when it went out in an earlier issue: the editor asked for it.
 */
export function chooseStories(
  window: readonly Story[],
  fresh: readonly Story[],
  choices: StoryChoices,
): { stories: Story[]; pinned: Story[]; dropped: Story[]; problems: Problem[] } {
  const byKey = new Map<string, Story>();
  for (const story of window) for (const item of [story.lead, ...story.others]) if (!byKey.has(item.storyKey)) byKey.set(item.storyKey, story);
  const problems: Problem[] = [];
  const find = (field: 'pin' | 'drop') =>
    choices[field].flatMap((url, i) => {
      const story = byKey.get(normaliseUrl(url));
      if (story) return [story];
      problems.push({
        file: choices.file,
        field: `${field}[${i}]`,
        expected: `the URL of a story in this issue's window (${window.length} ${window.length === 1 ? 'story' : 'stories'}; \`almanac issue new\` lists them)`,
        found: `"${url}", which matches none`,
      });
      return [];
    });
  const pinned = [...new Set(find('pin'))];
  // The same story both pinned and dropped (perhaps by two forms of its URL) is a slip to name, not
  // a choice to guess at.
  choices.drop.forEach((url, i) => {
    const story = byKey.get(normaliseUrl(url));
    const j = choices.pin.findIndex((p) => byKey.get(normaliseUrl(p)) === story);
    if (story && j >= 0) {
      problems.push({ file: choices.file, field: `drop[${i}]`, expected: 'a story that is not also pinned', found: `"${url}", the story pin[${j}] puts first` });
    }
  });
  const dropped = [...new Set(find('drop'))].filter((s) => !pinned.includes(s));
  const skip = new Set([...pinned, ...dropped]);
  return { stories: [...pinned, ...fresh.filter((s) => !skip.has(s))], pinned, dropped, problems };
}
