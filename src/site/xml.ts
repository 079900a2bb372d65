// Text into XML 1.0, for the feeds. Escaping alone is not enough: XML 1.0 has no way to write most
// C0 control characters, U+FFFE/U+FFFF or a lone surrogate, even as a character reference, so a
// document holding one is malformed whatever else is right. Those are removed before escaping.

// Everything XML 1.0 allows (tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF), negated;
// with the `u` flag an unpaired surrogate is one code point and matches here too.
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `s` without the characters XML 1.0 cannot carry: the one normalisation every feed applies to text. */
export function feedText(s: string): string {
  return s.replace(FORBIDDEN, '');
}

/** Character data for an element. CR is written as a reference: a parser turns a literal one into LF. */
export function xmlText(s: string): string {
  return feedText(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

/** An attribute value in double quotes. Tab, LF and CR as references: a parser turns literal ones into spaces. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;');
}
