// Import rules for src/: no cycles, and each stage imports only the stages before it
// (content → compose → words → render → site / mail → issue → server / schedule → cli).
// Checked by `npm run deps` and by test/architecture.test.ts.

/** Stage folders, and the folders each may not import: everything after it. */
const LATER = {
  content: ['intake', 'words', 'compose', 'render', 'site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli'],
  compose: ['intake', 'words', 'render', 'site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli'],
  // The product's words and date formats, for every stage that shows text to people.
  words: ['render', 'site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli'],
  render: ['site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli'],
  // The store comes after site and mail in the pipeline but both read it (built issues, the
  // ledger), so it sits below them in imports and may not import them.
  store: ['intake', 'site', 'mail', 'issue', 'server', 'schedule', 'cli'],
  // The website and the messages are siblings: neither imports the other.
  site: ['mail', 'issue', 'server', 'schedule', 'cli'],
  mail: ['site', 'issue', 'server', 'schedule', 'cli'],
  issue: ['server', 'schedule', 'cli'],
  server: ['schedule', 'cli'],
  schedule: ['server', 'cli'],
  // News intake reads the configuration and the news there is, and writes content files and the store.
  intake: ['words', 'render', 'site', 'mail', 'issue', 'server', 'schedule', 'cli'],
  // Infrastructure the stages share: the file cache, the folder walk, the staged output.
  cache: ['site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli'],
  files: ['compose', 'words', 'render', 'site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli', 'cache', 'output'],
  // Starting worker threads, for any stage that hands work to a second core.
  threads: ['content', 'intake', 'compose', 'words', 'render', 'site', 'mail', 'issue', 'store', 'server', 'schedule', 'cli', 'cache', 'files', 'output'],
  output: ['compose', 'render', 'mail', 'issue', 'store', 'server', 'schedule', 'cli'],
};

const layers = Object.entries(LATER).map(([from, later]) => ({
  name: `${from}-imports-later-stage`,
  comment: `src/${from}/ may not import ${later.join(', ')}`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: `^src/(${later.join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: modules that can only be understood, tested and loaded together',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layers,
    {
      name: 'compose-is-pure',
      comment: 'src/compose/ is pure logic: no file, network, process or database access',
      severity: 'error',
      from: { path: '^src/compose/' },
      to: {
        path: '^(node:)?(fs|fs/promises|child_process|net|http|https|http2|tls|dgram|dns|worker_threads|cluster|readline|os|process|better-sqlite3|nodemailer|chokidar|node-cron)(/|$)',
      },
    },
  ],
  options: {
    // dependency-cruiser's own TypeScript parser does not read TypeScript 7; swc does.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    reporterOptions: { text: { highlightFocused: false } },
  },
};
