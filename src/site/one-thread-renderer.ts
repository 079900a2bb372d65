// The renderer of a small site: every page rendered on the build's own thread once the site is composed.
import { markdownHere } from '../render/markdown.ts';
import type { StagedOutput } from '../output/staged.ts';
import { sameTemplates, siteTemplates, writeFiles, type ComposedSite, type SiteRenderer } from './renderer.ts';

/** Renders every page on this thread once the site is composed. */
export class OneThreadRenderer implements SiteRenderer {
  readonly markdown = markdownHere;
  private output: StagedOutput | undefined;

  constructor(private readonly root: string) {}

  start(output: StagedOutput): void {
    this.output = output;
  }

  page(): void {
    // Rendered with the rest in finish.
  }

  async finish(site: ComposedSite, expected: string): Promise<void> {
    const output = this.output!;
    const { templates, save } = await siteTemplates(this.root);
    sameTemplates(templates.textDigest, expected);
    output.useListing();
    writeFiles(output, site.files);
    templates.renderAll(site.pages, (paths, html) => output.write(paths, html));
    for (const [file, source] of site.copies) output.copyFrozen(file, source);
    save();
  }

  async close(): Promise<void> {}
}
