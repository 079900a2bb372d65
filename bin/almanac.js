#!/usr/bin/env node
// Runs the bundled CLI from lib/ (built by `npm install` through the "prepare" script). When the
// TypeScript in src/ is newer than that bundle — while editing — it runs src/ through tsx instead.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

function compiledIsFresh() {
  let built;
  try {
    built = statSync(`${root}lib/.stamp`).mtimeMs;
  } catch {
    return false;
  }
  for (const entry of readdirSync(`${root}src`, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > built) return false;
  }
  return true;
}

let main;
if (compiledIsFresh()) {
  ({ main } = await import('../lib/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
