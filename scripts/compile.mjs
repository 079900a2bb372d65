// Compiles src/ to lib/ so the CLI starts without a TypeScript loader. Run by "prepare" on
// `npm install`; where TypeScript is not installed (a production install) the CLI runs src/ through tsx.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
let tsc;
try {
  const pkg = require.resolve('typescript/package.json');
  tsc = path.join(path.dirname(pkg), require(pkg).bin.tsc);
} catch {
  console.log('almanac: TypeScript is not installed; the CLI will run from src/ through tsx.');
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync('lib/.stamp', '');
