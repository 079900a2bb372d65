// Plain text written into HTML so that it shows exactly that text, in element content or in a quoted
// attribute value: for the few pieces of HTML made outside the templates (feeds' HTML fields, the
// confirmation mail), where Handlebars' own escaping does not reach.

export function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
