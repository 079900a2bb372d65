// Importing subscribers from CSV: a header row with an `email` column (and optionally `name` and
// `editions`, names of the site's editions); other columns are ignored. Bad rows are reported by line and skipped; a file that is
// not CSV at all imports nothing. Imported addresses are active, except that an address which
// unsubscribed or bounced stays so: an import never subscribes someone who left. Cells that export
// protected against spreadsheet formulas ('=…, '+…, '-…, '@…) get their original value back.
import { parse } from 'csv-parse/sync';
import type { Edition } from '../compose/slots.ts';
import { ContentError, describeValue, type Problem } from '../content/problems.ts';
import { restoreCell } from './csv-cells.ts';
import { addressProblem, type SubscriberStore } from './subscribers.ts';

export interface ImportReport {
  imported: number;
  merged: number;
  /** Addresses already in the list that unsubscribed or bounced, left as they were. */
  kept: number;
  rejected: Problem[];
}

interface Row {
  line: number;
  email: string;
  name: string;
  editions: Edition[];
}

/**
 * Parses `editions` against the site's edition names: "midweek", "sunday", "midweek sunday" (commas
 * too); empty means all of them. The result is in the order of `names`, then of `turnedOff`: editions
 * the config turns off may be named too (a list exported before they were turned off), and are kept.
 */
export function parseEditions(value: string, names: readonly Edition[], turnedOff: readonly Edition[] = []): Edition[] | undefined {
  const words = value.toLowerCase().split(/[\s,;]+/).filter(Boolean);
  if (words.length === 0) return [...names];
  const known = [...names, ...turnedOff];
  if (!words.every((w) => known.includes(w))) return undefined;
  return known.filter((e) => words.includes(e));
}

/** "midweek, sunday, \"midweek sunday\", or empty for all": what an editions cell may hold. */
export function editionsExpected(names: readonly Edition[]): string {
  const examples = names.length > 1 ? `${names.join(', ')}, "${names.slice(0, 2).join(' ')}"` : `${names[0]}`;
  return `${examples}, or empty for ${names.length > 1 ? 'all' : names[0]}`;
}

/** Both lists, editions no longer configured (kept on an existing reader) first in their own order. */
function union(a: readonly Edition[], b: readonly Edition[]): Edition[] {
  return [...new Set([...a, ...b])];
}

/**
 * `editions`: the site's edition names; `turnedOff`: those its config turns off, kept on a reader
 * who has them (not sent until turned on again). A row naming any other is rejected.
 */
export function importCsv(store: SubscriberStore, source: Buffer, file: string, now: number, editions: readonly Edition[], turnedOff: readonly Edition[] = []): ImportReport {
  const rows = readRows(source, file, editions, turnedOff);
  const known = [...editions, ...turnedOff];
  const rejected: Problem[] = [];
  const unique = new Map<string, Row>();
  let merged = 0;
  for (const row of rows) {
    const at = `${file}:${row.line}`;
    const wrong = addressProblem(row.email);
    if (wrong) {
      rejected.push({ file: at, field: 'email', expected: 'an email address', found: wrong });
      continue;
    }
    const key = row.email.toLowerCase();
    const seen = unique.get(key);
    if (seen) {
      merged++;
      seen.name = row.name || seen.name;
      seen.editions = known.filter((e) => seen.editions.includes(e) || row.editions.includes(e));
    } else unique.set(key, row);
  }
  // Editions were validated while reading; a row with bad editions never reaches `unique`.
  rejected.push(...rows.rejected);

  let imported = 0;
  let kept = 0;
  store.transaction(() => {
    for (const row of unique.values()) {
      const existing = store.find(row.email);
      if (existing && (existing.status === 'unsubscribed' || existing.status === 'bounced')) {
        kept++;
        continue;
      }
      const chosen = existing ? union(existing.editions, row.editions) : row.editions;
      store.upsert({ email: row.email, name: row.name || undefined, editions: chosen, status: 'active' }, now);
      if (existing) merged++;
      else imported++;
    }
  });
  return { imported, merged, kept, rejected: rejected.sort((a, b) => lineOf(a) - lineOf(b)) };
}

function lineOf(p: Problem): number {
  return Number(/:(\d+)$/.exec(p.file)?.[1] ?? 0);
}

/** Reads every data row, or throws when the file is not a CSV with an email column. */
function readRows(source: Buffer, file: string, names: readonly Edition[], turnedOff: readonly Edition[]): Row[] & { rejected: Problem[] } {
  const notCsv = (found: string): ContentError =>
    new ContentError([{ file, expected: 'a CSV file with a header row that has an "email" column', found }]);
  if (source.includes(0)) throw notCsv('binary data');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(source, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    throw notCsv((err as Error).message.split('\n')[0] ?? 'unreadable CSV');
  }
  const [header, ...data] = records;
  if (!header) throw notCsv('an empty file');
  const columns = header.record.map((c) => c.toLowerCase());
  const col = (name: string) => columns.indexOf(name);
  if (col('email') === -1) throw notCsv(`the header ${describeValue(header.record.join(','))}`);

  const rows = [] as unknown as Row[] & { rejected: Problem[] };
  rows.rejected = [];
  for (const { record, info } of data) {
    const cell = (name: string) => (col(name) === -1 ? '' : restoreCell(record[col(name)] ?? ''));
    const editions = parseEditions(cell('editions'), names, turnedOff);
    if (!editions) {
      rows.rejected.push({
        file: `${file}:${info.lines}`,
        field: 'editions',
        expected: `editions of this site: ${editionsExpected(names)}`,
        found: describeValue(cell('editions')),
      });
      continue;
    }
    rows.push({ line: info.lines, email: cell('email'), name: cell('name'), editions });
  }
  return rows;
}
