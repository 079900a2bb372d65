// The spam-score check runs Debian's SpamAssassin. Installs it when it is missing (as root, through
// apt), so `npm test` works on a fresh machine; otherwise says what to install and carries on: the
// check and its tests say SpamAssassin is absent rather than fail. Rules come from the package
// (sa-update would need the network).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const SPAMASSASSIN = process.env.SPAMASSASSIN_PATH || '/usr/bin/spamassassin';

if (!existsSync(SPAMASSASSIN)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (!isRoot || !hasApt) {
    console.error(`SpamAssassin was not found at ${SPAMASSASSIN}: the spam-score tests will be skipped.`);
    console.error('Install Debian\'s package ("sudo apt-get install spamassassin") or set SPAMASSASSIN_PATH.');
  } else {
    console.log('Installing SpamAssassin for the spam-score check (apt-get install spamassassin)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'spamassassin']]) {
      const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (r.status !== 0) {
        console.error(`apt-get ${args.join(' ')} failed with exit code ${r.status}`);
        process.exit(1);
      }
    }
  }
}
