// The import rules of .dependency-cruiser.cjs: no cycle in src/, and each stage imports only the
// stages before it.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ISummary, IViolation } from 'dependency-cruiser';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const DEADLINE_MS = 60_000;

/** dependency-cruiser in a thread of its own (see helpers/cruise-worker.mjs). */
class Cruiser {
  private readonly worker = new Worker(new URL('./helpers/cruise-worker.mjs', import.meta.url), {
    execArgv: [],
    workerData: { config: path.join(PROJECT, '.dependency-cruiser.cjs') },
  });
  private readonly exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));

  /** The rules' violations in `src/` of a folder. */
  async violations(baseDir: string): Promise<IViolation[]> {
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<{ summary?: ISummary; error?: string }>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`dependency-cruiser took more than ${DEADLINE_MS} ms`)), DEADLINE_MS);
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
      void this.exited.then(() => reject(new Error("dependency-cruiser's thread ended without a result")));
      this.worker.postMessage(baseDir);
    }).finally(() => clearTimeout(timer));
    assert.ok(reply.summary, `dependency-cruiser failed: ${reply.error}`);
    assert.ok(reply.summary.totalCruised > 0, `dependency-cruiser found no modules in ${baseDir}/src`);
    return reply.summary.violations;
  }

  /** Lets the thread end by itself: stopping it from outside can crash the process (swc again). */
  async close(): Promise<void> {
    this.worker.postMessage('');
    await this.exited;
  }
}

/** One line per violation: the rule, and the chain of modules for a cycle. */
function describeAll(found: IViolation[]): string {
  return found
    .map((v) => `${v.rule.name}: ${v.cycle?.length ? [v.from, ...v.cycle.map((c) => c.name)].join(' → ') : `${v.from} → ${v.to}`}`)
    .join('\n');
}

describe('imports in src/', () => {
  const cruiser = new Cruiser();
  after(() => cruiser.close());
  let project: Promise<IViolation[]> | undefined;
  const projectViolations = () => (project ??= cruiser.violations(PROJECT));

  it('form no cycle', async () => {
    const cycles = (await projectViolations()).filter((v) => v.rule.name === 'no-circular');
    assert.equal(cycles.length, 0, `import cycles:\n${describeAll(cycles)}`);
  });

  it('go only to earlier stages, keep compose/ pure and mail/ apart from site/', async () => {
    const others = (await projectViolations()).filter((v) => v.rule.name !== 'no-circular');
    assert.equal(others.length, 0, `imports against the layering:\n${describeAll(others)}`);
  });

  it('are checked by rules that catch a cycle, an upward import and file access in compose/', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'almanac-deps-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const files: Record<string, string> = {
      'src/content/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'src/content/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      'src/mail/message.ts': "import { page } from '../site/page.ts';\nexport const message = page;\n",
      'src/site/page.ts': 'export const page = 1;\n',
      'src/compose/story.ts': "import { readFileSync } from 'node:fs';\nexport const story = readFileSync;\n",
    };
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    const found = describeAll(await cruiser.violations(dir)).split('\n').sort();
    assert.deepEqual(found, [
      'compose-is-pure: src/compose/story.ts → fs',
      'mail-imports-later-stage: src/mail/message.ts → src/site/page.ts',
      'no-circular: src/content/a.ts → src/content/b.ts → src/content/a.ts',
    ]);
  });
});
