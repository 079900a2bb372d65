// Bundles src/ into lib/cli/ so the CLI starts without a TypeScript loader and without resolving
// hundreds of separate modules: Node 20 spends about 100 ms of every command linking the module
// graph file by file. Each command's own code (and the libraries only it needs) is a chunk loaded
// on first use. Run by "prepare" on `npm install`; where esbuild is not installed (a production
// install) the CLI runs src/ through tsx. Type checking is `tsc --noEmit`, part of `npm test`.
//
// Every source module sits two folders below the project (src/<stage>/file.ts) and so does the
// bundle (lib/cli/), so paths built from import.meta.url (the built-in templates) stay right.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

// The libraries the site build loads are bundled; every other dependency stays a package of its own
// (some find data files or spawn helpers relative to their own location, which bundling would break;
// markdown-it is required on first use, see src/render/markdown.ts).
const BUNDLED = ['commander', 'cron-parser', 'handlebars', 'js-yaml', 'luxon', 'zod'];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('almanac: esbuild is not installed; the CLI will run from src/ through tsx.');
  process.exit(0);
}
rmSync('lib', { recursive: true, force: true });
mkdirSync('lib', { recursive: true });
await esbuild.build({
  // The render helper and the MJML thread run as worker threads, each started from its own file.
  entryPoints: { main: 'src/cli/main.ts', 'render-helper': 'src/site/render-helper.ts', 'mjml-thread': 'src/render/mjml-thread.ts' },
  outdir: 'lib/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).dependencies).filter((name) => !BUNDLED.includes(name)),
  // Some bundled CommonJS packages call require() for Node's own modules.
  banner: { js: "import { createRequire as __almanacRequire } from 'node:module'; const require = __almanacRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync('lib/.stamp', '');
