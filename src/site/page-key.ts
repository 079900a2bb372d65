// Which pages need rendering: those the staged output does not hold already as they would be
// written (see output/written-pages.ts). A page is named by what it is rendered from: the templates
// and Almanac's code, its template, its paths and its data.
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import type { StagedOutput } from '../output/staged.ts';
import { pathsOf, type Page } from './page-context.ts';

/** What `page` is rendered from, as a key; `templates` is the digest of the templates and the code that renders them. */
export function pageKey(templates: string, page: Page): string {
  return createHash('sha256')
    .update(`${templates}\0${page.template}\0${pathsOf(page).join('\0')}\0`)
    .update(v8.serialize(page.data))
    .digest('hex');
}

/** Whether each page is in the output already (see StagedOutput.inPlace), asked once per page. */
export function pagesInPlace(output: StagedOutput, templates: string): (page: Page) => boolean {
  const found = new Map<Page, boolean>();
  return (page) => {
    let inPlace = found.get(page);
    if (inPlace === undefined) found.set(page, (inPlace = output.inPlace(pathsOf(page), pageKey(templates, page))));
    return inPlace;
  };
}
