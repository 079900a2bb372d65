// Writing to a pipe whose reader has gone (`almanac subscribers list | head -1`) ends quietly, exit 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { describe, it } from 'node:test';
import { databasePath, openDatabase } from '../src/store/database.ts';
import { SqliteSubscribers } from '../src/store/subscribers.ts';
import { BIN, tempSite } from './helpers/cli.ts';

/** Far more output than a pipe holds (64 KiB), so the CLI is still writing when the reader leaves. */
const READERS = 20_000;

async function siteWithReaders(): Promise<string> {
  const root = await tempSite();
  const db = openDatabase(databasePath(root));
  const store = new SqliteSubscribers(db);
  db.transaction(() => {
    for (let i = 0; i < READERS; i++) store.upsert({ email: `reader${i}@example.com`, name: `Reader ${i}`, status: 'active' }, Date.UTC(2026, 3, 1));
  })();
  db.close();
  return root;
}

/** Runs the CLI with standard output a pipe that is closed after its first chunk. */
function runUntilFirstChunk(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const deadline = setTimeout(() => (child.kill('SIGKILL'), reject(new Error('the CLI did not end within 60 s'))), 60_000);
    let first = '';
    let stderr = '';
    child.stdout.once('data', (chunk: Buffer) => {
      first = chunk.toString('utf8');
      child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, first, stderr });
    });
  });
}

describe('a closed pipe', () => {
  it('ends subscribers list quietly with exit 0, as text and as JSON', async () => {
    const root = await siteWithReaders();
    for (const extra of [[], ['--json']]) {
      const run = await runUntilFirstChunk(['subscribers', 'list', '--root', root, ...extra]);
      assert.ok(run.first.length > 0, 'the reader got a first chunk');
      assert.equal(run.signal, null);
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /EPIPE|Error|\n\s+at /, 'no error and no stack trace');
    }
  });

  it('that fails otherwise (a full disk) is told on standard error, once, with exit 1', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    const root = await siteWithReaders();
    for (const args of [['subscribers', 'list', '--json'], ['status', '--json']]) {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [BIN, ...args, '--root', root], { stdio: ['ignore', full, 'pipe'] });
      closeSync(full);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d));
      const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(deadline);
      assert.equal(code, 1, args.join(' '));
      assert.equal(stderr, 'almanac: standard output: no space left on device (write, ENOSPC); the output is incomplete\n', args.join(' '));
    }
  });
});
