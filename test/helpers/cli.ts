// Runs the real `almanac` binary in a child process, the way a user does.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(PROJECT, 'bin/almanac.js');
export const NOW = '2026-06-20T09:00:00Z';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** How long one command may run before it is killed and its test fails: a hang must not stall the suite. */
export const COMMAND_DEADLINE_MS = 120_000;

export function almanac(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? PROJECT, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_DEADLINE_MS, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err?.killed) return reject(new Error(`almanac ${args.join(' ')} still running after ${COMMAND_DEADLINE_MS} ms\n${stderr}`));
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A throwaway site folder (one with content/ is a site); with `sample`, a copy of the project's sample content. */
export async function tempSite(options: { sample?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-test-'));
  if (options.sample) await cp(path.join(PROJECT, 'content'), path.join(dir, 'content'), { recursive: true });
  else await mkdir(path.join(dir, 'content'));
  return dir;
}

/** Every file below `dir` with its bytes, for byte-for-byte comparisons. */
export async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const d of names) {
    if (!d.isFile()) continue;
    const full = path.join(d.parentPath, d.name);
    out.set(path.relative(dir, full), await readFile(full));
  }
  return out;
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
}

export const GOOD_GUIDE = `---
title: A Good Guide
level: beginner
topics: [Testing]
tldr: A short summary.
takeaways: [One thing to remember]
---

## First section

Body text.
`;

export const GOOD_NEWS = `---
title: A Good Story
url: https://example.com/story
source: Example Wire
published: 2026-06-01
score: 5
topics: [Testing]
---
A summary of the story.
`;

/** Polls `condition` until it holds, or fails after `ms`. */
export async function until(condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
