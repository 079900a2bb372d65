// Text from outside (DNS records, a server's reply) as the terminal gets it: control characters
// (ESC sequences that recolour or clear the screen, a carriage return that overwrites the line, a
// line break that forges a line of its own) and the bidirectional overrides that reorder what is
// shown are written out as escapes, so that what is printed is what was received.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
