import { ContentError } from '../content/problems.ts';
import { IssueStore, type StoredIssueFiles } from '../store/issues.ts';

/** A built issue by its id, or a problem saying it was never built. */
export function loadIssue(root: string, id: string): StoredIssueFiles {
  const found = new IssueStore(root).get(id);
  if (!found) {
    throw new ContentError([{ file: `.almanac/issues/${id}`, expected: 'an issue built with "almanac issue build"', found: 'no such issue' }]);
  }
  return found;
}
