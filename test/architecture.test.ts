// The import rules of .dependency-cruiser.cjs: no cycle in src/, and each stage imports only the
// stages before it. dependency-cruiser runs in its own process: under tsx's loader its swc visitor
// does not load, and it would quietly find no imports at all.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ICruiseResult, IViolation } from 'dependency-cruiser';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CLI = path.join(PROJECT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** The rules' violations in `src/` of a folder. */
async function violations(cwd: string): Promise<IViolation[]> {
  const args = [CLI, 'src', '--config', path.join(PROJECT, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout) as ICruiseResult;
  assert.ok(result.summary.totalCruised > 0, `dependency-cruiser found no modules in ${cwd}/src`);
  return result.summary.violations;
}

/** One line per violation: the rule, and the chain of modules for a cycle. */
function describeAll(found: IViolation[]): string {
  return found
    .map((v) => `${v.rule.name}: ${v.cycle?.length ? [v.from, ...v.cycle.map((c) => c.name)].join(' → ') : `${v.from} → ${v.to}`}`)
    .join('\n');
}

describe('imports in src/', () => {
  let project: Promise<IViolation[]> | undefined;
  const projectViolations = () => (project ??= violations(PROJECT));

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
    const found = describeAll(await violations(dir)).split('\n').sort();
    assert.deepEqual(found, [
      'compose-is-pure: src/compose/story.ts → fs',
      'mail-imports-later-stage: src/mail/message.ts → src/site/page.ts',
      'no-circular: src/content/a.ts → src/content/b.ts → src/content/a.ts',
    ]);
  });
});
