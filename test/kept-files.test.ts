// The files a build keeps for itself (caches, the records beside the output) are written without
// following whatever stands at the temporary name, and read only when they are regular files of a
// sane size: a planted link, a named pipe or /dev/zero neither redirects a write nor stalls a build.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomically } from '../src/files/atomic.ts';
import { readRegularFile } from '../src/files/regular-file.ts';

describe('files a build keeps', () => {
  it('are written as new files, never through a link planted at the temporary name', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-kept-'));
    const victim = path.join(dir, 'victim');
    await writeFile(victim, 'original\n');
    const file = path.join(dir, '.dist.pages');
    await symlink(victim, `${file}.tmp-${process.pid}`);
    writeFileAtomically(file, 'the record\n');
    assert.equal(await readFile(victim, 'utf8'), 'original\n', 'the link target is untouched');
    assert.equal(await readFile(file, 'utf8'), 'the record\n');
    assert.deepEqual((await readdir(dir)).sort(), ['.dist.pages', 'victim']);
    // A link in place of the file itself is replaced, not written through.
    await symlink(victim, path.join(dir, 'made-from'));
    writeFileAtomically(path.join(dir, 'made-from'), 'inputs\n');
    assert.equal(await readFile(victim, 'utf8'), 'original\n');
  });

  it('are read only when a regular file within the limit', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-kept-'));
    const regular = path.join(dir, 'regular');
    await writeFile(regular, 'twelve bytes');
    assert.equal(readRegularFile(regular, 12)?.toString(), 'twelve bytes');
    assert.equal(readRegularFile(regular, 11), undefined, 'larger than the limit');
    assert.equal(readRegularFile(path.join(dir, 'missing'), 100), undefined);
    await symlink(regular, path.join(dir, 'link'));
    assert.equal(readRegularFile(path.join(dir, 'link'), 100), undefined, 'a link, even to a regular file');
    await symlink('/dev/zero', path.join(dir, 'zero'));
    assert.equal(readRegularFile(path.join(dir, 'zero'), 100), undefined, 'a link to a device');
    assert.equal(readRegularFile('/dev/zero', 100), undefined, 'a device');
    assert.equal(readRegularFile(dir, 100), undefined, 'a folder');
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.ok(existsSync(fifo));
    // Returns at once: opening a pipe with no writer for reading would otherwise wait for one.
    assert.equal(readRegularFile(fifo, 100), undefined, 'a named pipe');
  });
});
