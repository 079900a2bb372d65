// The tests drive two of Debian's programs: Chromium (the browser tests) and SpamAssassin (the
// spam-score check). Each is installed when missing (as root, through apt, in one apt run), so
// `npm test` works on a fresh machine; otherwise this says what to install. Without Chromium the
// browser tests cannot run, so that stops here; without SpamAssassin its tests are skipped and the
// check says it is absent. SpamAssassin's rules come from the package (sa-update needs the network).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const TOOLS = [
  { name: 'Chromium', for: 'the browser tests', path: process.env.CHROMIUM_PATH || '/usr/bin/chromium', variable: 'CHROMIUM_PATH', pkg: 'chromium', required: true },
  { name: 'SpamAssassin', for: 'the spam-score check', path: process.env.SPAMASSASSIN_PATH || '/usr/bin/spamassassin', variable: 'SPAMASSASSIN_PATH', pkg: 'spamassassin', required: false },
];

const missing = TOOLS.filter((t) => !existsSync(t.path));
if (missing.length > 0) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    for (const t of missing) {
      console.error(`${t.name} was not found at ${t.path}: ${t.required ? `it is needed for ${t.for}` : `the tests of ${t.for} will be skipped`}.`);
      console.error(`Install Debian's package ("sudo apt-get install ${t.pkg}") or set ${t.variable}.`);
    }
    if (missing.some((t) => t.required)) process.exit(1);
  } else {
    const pkgs = missing.map((t) => t.pkg);
    console.log(`Installing ${missing.map((t) => `${t.name} for ${t.for}`).join(' and ')} (apt-get install ${pkgs.join(' ')})…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...pkgs]]) {
      const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (r.status !== 0) {
        console.error(`apt-get ${args.join(' ')} failed with exit code ${r.status}`);
        process.exit(1);
      }
    }
  }
}
