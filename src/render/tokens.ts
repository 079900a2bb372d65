// Per-reader slots: markers left in the rendered issue (which is built once) and filled in for each
// reader when the issue is sent, and with general values for the public copies on the site.
//
// Only the templates can place a slot. A marker carries a random nonce drawn when the process starts,
// so no text from content (a news URL, a title, a summary) can spell one: a news item that writes
// "{{unsubscribe_url}}" prints exactly that, and no reader's signed link is ever put in its place.
// An issue stored on disk keeps the nonce it was rendered with (see store/issues.ts).
import { randomBytes } from 'node:crypto';

export type SlotName = 'unsubscribe' | 'preferences' | 'name';
export const SLOT_NAMES: readonly SlotName[] = ['unsubscribe', 'preferences', 'name'];

/** A nonce's markers. Letters, digits and hyphens only: they pass through MJML, attributes and QP unchanged. */
export function slotMarkers(nonce: string): Record<SlotName, string> {
  return {
    unsubscribe: `almanac-slot-${nonce}-unsubscribe`,
    preferences: `almanac-slot-${nonce}-preferences`,
    name: `almanac-slot-${nonce}-name`,
  };
}

/** This process's nonce: 128 random bits. */
export const SLOT_NONCE = randomBytes(16).toString('hex');

/** The markers the templates place, as `{{tokens.unsubscribe}}` and so on. */
export const TOKENS = slotMarkers(SLOT_NONCE);

/** How a slot is named in messages to editors. */
export function slotLabel(name: SlotName): string {
  return name === 'name' ? '{{tokens.name}}' : `{{${name}_url}}`;
}

/** One recipient's values for the placeholders. */
export type Recipient = Record<SlotName, string>;

export function sampleRecipient(baseUrl: string): Recipient {
  return {
    unsubscribe: `${baseUrl}/unsubscribe?token=sample`,
    preferences: `${baseUrl}/preferences?token=sample`,
    name: 'Reader',
  };
}

/** The values the public copies on the website get: the general pages, no reader's token. */
export function webRecipient(baseUrl: string): Recipient {
  return { unsubscribe: `${baseUrl}/unsubscribe`, preferences: `${baseUrl}/preferences`, name: 'reader' };
}

const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A value as the text part gets it: as given, without control characters (no line breaks a reader's name could add). */
export function slotText(value: string): string {
  return value.replace(CONTROLS, '');
}

/** A value as the HTML part gets it: escaped for element text and attribute values alike. */
export function slotHtml(value: string): string {
  return slotText(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Fills every slot of a text part. (Sending does the same on pre-encoded bytes, once per recipient.) */
export function personalise(text: string, recipient: Recipient): string {
  return fill(text, recipient, slotText);
}

/** Fills every slot of an HTML part, escaping the values. */
export function personaliseHtml(html: string, recipient: Recipient): string {
  return fill(html, recipient, slotHtml);
}

function fill(text: string, recipient: Recipient, encode: (value: string) => string): string {
  let out = text;
  for (const key of SLOT_NAMES) out = out.split(TOKENS[key]).join(encode(recipient[key]));
  return out;
}

/** Rewrites the markers of an issue rendered under another nonce to this process's. */
export function adoptSlots(text: string, nonce: string): string {
  if (nonce === SLOT_NONCE) return text;
  const old = slotMarkers(nonce);
  let out = text;
  for (const key of SLOT_NAMES) out = out.split(old[key]).join(TOKENS[key]);
  return out;
}
