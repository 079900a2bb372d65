// The pool of Pagefind processes with real Pagefind: the second slot loads a copy of Pagefind's module
// of its own, and so runs a process of its own, seen in /proc while two jobs index at once.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadPagefind, PagefindPool } from '../src/site/pagefind-pool.ts';
import { until } from './helpers/cli.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the Pagefind pool with real Pagefind', () => {
  it('loads a copy of Pagefind of its own for the second process', async () => {
    const [first, second, again] = await Promise.all([loadPagefind(0), loadPagefind(1), loadPagefind(0)]);
    assert.equal(typeof second.createIndex, 'function');
    assert.notEqual(first, second, 'another module instance, so another service process');
    assert.equal(first, again);
  });

  it('indexes with two real Pagefind processes at once', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const pool = new PagefindPool(2);
    const bothIn = Array.from({ length: 2 }, deferred);
    const seen: number[][] = [];
    await Promise.all(
      bothIn.map((me, i) =>
        pool.run(async (pagefind) => {
          const { index } = await pagefind.createIndex({});
          assert.ok(index);
          await index.addCustomRecord({ url: `/${i}`, content: `record ${i}`, language: 'en' });
          me.resolve();
          await Promise.all(bothIn.map((d) => d.promise));
          seen.push(pagefindChildren());
          await index.deleteIndex();
        }),
      ),
    );
    assert.equal(seen[0]!.length, 2, `two Pagefind processes while both jobs ran: ${JSON.stringify(seen)}`);
    // Pagefind's close() sends the signal and returns: the processes end a moment later.
    await until(() => pagefindChildren().length === 0, 5_000);
  });
});

/** The child processes of this one that run Pagefind's binary. */
function pagefindChildren(): number[] {
  const children = readdirSync(`/proc/${process.pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number),
  );
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pagefind');
    } catch {
      return false;
    }
  });
}
