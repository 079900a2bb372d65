// Spreadsheet-safe CSV cells (OWASP "CSV injection"): a cell that starts with =, +, -, @, a tab or
// a carriage return is read as a formula by spreadsheet programs, so export prefixes it with a
// single quote. To keep the round trip exact, a value that already starts with quotes followed by
// such a character gets one more quote; import removes exactly one from such cells.
const TRIGGER = /^'*[=+\-@\t\r]/;

export function neutraliseCell(value: string): string {
  return TRIGGER.test(value) ? `'${value}` : value;
}

export function restoreCell(value: string): string {
  return value.startsWith("'") && TRIGGER.test(value) ? value.slice(1) : value;
}
