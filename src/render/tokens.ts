// Per-recipient placeholders: left in the rendered issue (which is built once) and filled in for
// each reader when the issue is sent, and with general values for the public copies on the site.

export const TOKENS = {
  unsubscribe: '{{unsubscribe_url}}',
  preferences: '{{preferences_url}}',
  name: '{{name}}',
} as const;

/** One recipient's values for the placeholders. */
export type Recipient = Record<keyof typeof TOKENS, string>;

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

/** Fills every placeholder. (Sending does the same on pre-encoded bytes, once per recipient.) */
export function personalise(text: string, recipient: Recipient): string {
  let out = text;
  for (const key of Object.keys(TOKENS) as (keyof typeof TOKENS)[]) out = out.split(TOKENS[key]).join(recipient[key]);
  return out;
}
