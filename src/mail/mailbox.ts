// The messages of a file or folder that `bounces import` reads: one message (.eml), an mbox (each
// message after a "From " line; ">From " lines of mboxrd unquoted) or a maildir (new/ and cur/).
// Messages are yielded one at a time, so an mbox of any size is read in constant memory.
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface MailboxMessage {
  /** Where it came from, for the report: the file, "mbox:N" or the maildir file. */
  source: string;
  raw: Buffer;
}

export async function* readMailbox(location: string): AsyncGenerator<MailboxMessage> {
  const info = await stat(location);
  if (info.isDirectory()) {
    yield* readMaildir(location);
    return;
  }
  const handle = createReadStream(location, { start: 0, end: 4 });
  const head = await new Promise<string>((resolve, reject) => {
    let s = '';
    handle.on('data', (c) => (s += c.toString('latin1')));
    handle.on('end', () => resolve(s));
    handle.on('error', reject);
  });
  if (head === 'From ') yield* readMbox(location);
  else yield { source: location, raw: await readFile(location) };
}

async function* readMbox(file: string): AsyncGenerator<MailboxMessage> {
  // latin1 keeps every byte as it is, whatever the messages' own encodings.
  const lines = createInterface({ input: createReadStream(file, { encoding: 'latin1' }), crlfDelay: Infinity });
  let current: string[] | undefined;
  let previousBlank = true;
  let n = 0;
  const done = (body: string[]) => ({ source: `${file}:${++n}`, raw: Buffer.from(`${body.join('\n')}\n`, 'latin1') });
  for await (const line of lines) {
    if (line.startsWith('From ') && previousBlank) {
      if (current) yield done(trimEnd(current));
      current = [];
    } else if (current) {
      current.push(/^>+From /.test(line) ? line.slice(1) : line);
    }
    previousBlank = line === '';
  }
  if (current) yield done(trimEnd(current));
}

/** The blank line an mbox puts before the next "From " line is not part of the message. */
function trimEnd(lines: string[]): string[] {
  return lines.at(-1) === '' ? lines.slice(0, -1) : lines;
}

async function* readMaildir(dir: string): AsyncGenerator<MailboxMessage> {
  const folders = ['new', 'cur'].map((f) => path.join(dir, f));
  const present = await Promise.all(folders.map((f) => stat(f).then((s) => s.isDirectory(), () => false)));
  if (!present.some(Boolean)) throw Object.assign(new Error(`${dir} is a folder but not a maildir (it has no new/ or cur/)`), { code: 'ENOTMAILDIR' });
  for (const [i, folder] of folders.entries()) {
    if (!present[i]) continue;
    for (const name of (await readdir(folder)).sort()) {
      if (name.startsWith('.')) continue;
      const file = path.join(folder, name);
      if ((await stat(file)).isFile()) yield { source: file, raw: await readFile(file) };
    }
  }
}
