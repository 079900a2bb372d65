// The email templates as their authors wrote them, for checks that name a template file and line.
import type { TemplateSource } from '../mail/template-place.ts';
import type { TemplateSet } from '../render/templates.ts';

/** The HTML email templates (not the text part's, which has no markup or CSS). */
export function emailTemplateSources(templates: TemplateSet): TemplateSource[] {
  return templates.files
    .filter(({ file }) => file.rel.startsWith('email/') && !file.rel.endsWith('.txt.hbs'))
    .map(({ file, source }) => ({ display: file.display, source }));
}
