// The record of built issues: each issue's number, assigned once at its first build and never
// changed, and its composed content, kept so the site can render its web version on every build.
// Files under .almanac/issues/; every write goes through a temporary file and a rename.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomically } from '../files/atomic.ts';
import type { ComposedIssue } from '../compose/issue.ts';
import { ISSUES_STORE } from '../content/paths.ts';
import { SLOT_NONCE, TOKENS, adoptSlots } from '../render/tokens.ts';

export interface StoredIssue extends ComposedIssue {
  number: number;
  subject: string;
  preheader: string;
  /** When this issue was (last) built. */
  builtAt: number;
}

export interface StoredIssueFiles {
  issue: StoredIssue;
  html: string;
  text: string;
}

interface Registry {
  issues: { id: string; number: number }[];
}

export class IssueStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, ISSUES_STORE);
  }

  /** The issue's number: the one it already has, or the next one. Does not record it. */
  numberFor(id: string): number {
    const { issues } = this.registry();
    return issues.find((i) => i.id === id)?.number ?? issues.reduce((max, i) => Math.max(max, i.number), 0) + 1;
  }

  save(files: StoredIssueFiles): void {
    const { issue } = files;
    const dir = path.join(this.dir, issue.id);
    mkdirSync(dir, { recursive: true });
    writeFileAtomically(path.join(dir, 'email.html'), files.html);
    writeFileAtomically(path.join(dir, 'email.txt'), files.text);
    // The nonce of the slot markers in the two files above, so a later process can find them.
    writeFileAtomically(path.join(dir, SLOTS_FILE), `${SLOT_NONCE}\n`);
    writeFileAtomically(path.join(dir, 'issue.json'), `${JSON.stringify(issue, null, 2)}\n`);
    const registry = this.registry();
    if (!registry.issues.some((i) => i.id === issue.id)) {
      registry.issues.push({ id: issue.id, number: issue.number });
      writeFileAtomically(path.join(this.dir, 'registry.json'), `${JSON.stringify(registry, null, 2)}\n`);
    }
  }

  /** One built issue, or undefined when no issue has that id. */
  get(id: string): StoredIssueFiles | undefined {
    return this.list().find((i) => i.issue.id === id);
  }

  /** Every built issue, newest slot first. */
  list(): StoredIssueFiles[] {
    const out: StoredIssueFiles[] = [];
    for (const { id } of this.registry().issues) {
      const dir = path.join(this.dir, id);
      try {
        const nonce = readSlotNonce(dir);
        out.push({
          issue: JSON.parse(readFileSync(path.join(dir, 'issue.json'), 'utf8')) as StoredIssue,
          html: storedSlots(readFileSync(path.join(dir, 'email.html'), 'utf8'), nonce, 'html'),
          text: storedSlots(readFileSync(path.join(dir, 'email.txt'), 'utf8'), nonce, 'text'),
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return out.sort((a, b) => b.issue.scheduledAt - a.issue.scheduledAt || b.issue.number - a.issue.number);
  }

  private registry(): Registry {
    try {
      return JSON.parse(readFileSync(path.join(this.dir, 'registry.json'), 'utf8')) as Registry;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { issues: [] };
      throw err;
    }
  }
}

const SLOTS_FILE = 'slots.txt';

function readSlotNonce(dir: string): string | undefined {
  try {
    const nonce = readFileSync(path.join(dir, SLOTS_FILE), 'utf8').trim();
    return /^[0-9a-f]{32}$/.test(nonce) ? nonce : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The stored text with this process's slot markers. An issue stored before slots had a nonce used
 * "{{unsubscribe_url}}" and the like, which content could also write: of those, only the ones in the
 * built-in templates' places (a link's href, the end of a text line after "Unsubscribe: ") become slots.
 */
function storedSlots(text: string, nonce: string | undefined, part: 'html' | 'text'): string {
  if (nonce) return adoptSlots(text, nonce);
  const markers = { unsubscribe: TOKENS.unsubscribe, preferences: TOKENS.preferences };
  if (part === 'html') {
    return text.replace(/href="\{\{(unsubscribe|preferences)_url\}\}"/g, (_, k: 'unsubscribe' | 'preferences') => `href="${markers[k]}"`);
  }
  return text
    .replace(/^(Unsubscribe: )\{\{unsubscribe_url\}\}$/m, `$1${markers.unsubscribe}`)
    .replace(/^(Choose your editions: )\{\{preferences_url\}\}$/m, `$1${markers.preferences}`);
}
