// A page as `serve` sends it. A build without `subscribeUrl` cannot know whether its pages will be
// hosted by `serve`, so its "Stay current" box says how to subscribe by mail and carries the form
// inert in a <template>; `serve`, whose /subscribe takes the address, shows the form in their place.

const SERVED_FORM = /<template class="subscribe-served">([\s\S]*?)<\/template>\s*<div class="subscribe-how">[\s\S]*?<\/div>/g;

/** The page with the subscribe form in place of the words on how to subscribe (unchanged when it has none). */
export function servedPage(html: string): string {
  return html.includes('<template class="subscribe-served">') ? html.replace(SERVED_FORM, '$1') : html;
}
