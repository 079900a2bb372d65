// What counts as an email address, in one place: the config (test addresses), the subscriber list
// and the forms all check with it.

/** A practical address check: one @, a dotted domain, no spaces or angle brackets, at most 254 characters. */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+\.[A-Za-z]{2,}$/.test(value) && !value.includes('..');
}
