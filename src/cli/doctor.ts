// `doctor`: the relay's session and the DNS records receivers check (DKIM, SPF, DMARC, MX), one line
// each. Exit 0 when nothing is an error, 1 when a setting or a record needs fixing, 2 when the checks
// could not run at all: a --resolver that is not an address, or no DNS answer to any query.
import type { Command } from 'commander';
import { ConfigError, ProblemError, UsageError, formatProblem } from '../content/problems.ts';
import type { Finding } from '../mail/doctor.ts';
import { DNS_DEADLINE_MS, countingLookup, isResolverAddress, nodeDnsLookup } from '../mail/dns-lookup.ts';
import { printJson, withJson } from './json.ts';
import { terminalText } from './terminal-text.ts';
import { globals, redactUrl, smtpUrlFromEnv } from './options.ts';
import { siteConfig } from './site-config.ts';

/** What `doctor --json` prints. */
export interface DoctorReport {
  from: string;
  /** The DNS servers asked; empty for the system's. */
  resolver: string[];
  findings: Finding[];
  errors: number;
  warnings: number;
  /** False when no DNS query got an answer: the checks did not run (exit 2). */
  dnsAnswered: boolean;
}

interface DoctorOptions {
  resolver?: string;
  json?: boolean;
}

/** "127.0.0.1:5353" or a comma-separated list; each entry an IP address with an optional port. */
function resolverServers(value: string | undefined, source: string): string[] {
  const expected = 'a DNS server\'s IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53';
  const servers = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  // An empty --resolver is a variable that was not set ("--resolver $DNS"), not a wish for the system's resolvers.
  if (source === '--resolver' && servers.length === 0) throw new UsageError(`--resolver expects ${expected}, found nothing`);
  const bad = servers.find((s) => !isResolverAddress(s));
  if (bad === undefined) return servers;
  if (source === '--resolver') throw new UsageError(`--resolver expects ${expected}, found "${bad}"`);
  throw new ConfigError([{ file: 'environment', field: source, expected, found: JSON.stringify(bad) }]);
}

export function registerDoctor(program: Command): void {
  withJson(program.command('doctor'))
    .description('check the SMTP relay and the DNS records receivers look at (DKIM, SPF, DMARC, MX); prints what to publish')
    .option('--resolver <host[:port]>', 'the DNS server to ask (default: ALMANAC_DNS_SERVER, else the system\'s)')
    .action(async (opts: DoctorOptions, cmd: Command) => {
      const servers = opts.resolver !== undefined ? resolverServers(opts.resolver, '--resolver') : resolverServers(process.env.ALMANAC_DNS_SERVER, 'ALMANAC_DNS_SERVER');
      const { config } = await siteConfig(globals(cmd).root);
      // Loaded here: nodemailer and the key handling are needed by this command only.
      const [{ runDoctor }, { smtpTransport }, { smtpTimeouts }, { classify }, { fromProblem }] = await Promise.all([
        import('../mail/doctor.ts'),
        import('../mail/transport.ts'),
        import('../mail/send-job.ts'),
        import('../mail/outcome.ts'),
        import('../mail/readiness.ts'),
      ]);
      // Every DNS check is of the From address's domain: without one (the default almanac@localhost), none means anything.
      const from = fromProblem(config);
      if (from) throw new ConfigError([from]);
      let relay: { url: string; host: string } | { problem: string };
      try {
        const url = smtpUrlFromEnv();
        relay = { url: redactUrl(url), host: new URL(url).hostname };
      } catch (err) {
        if (!(err instanceof ProblemError)) throw err;
        relay = { problem: err.problems.map(formatProblem).join('; ') };
      }
      const preflight = async (): Promise<string | undefined> => {
        const transport = smtpTransport({ url: smtpUrlFromEnv(), concurrency: 1, ratePerSecond: 0, timeouts: smtpTimeouts(config) });
        try {
          await transport.verify?.();
          return undefined;
        } catch (err) {
          return classify(err).reason;
        } finally {
          transport.close();
        }
      };
      const dns = countingLookup(nodeDnsLookup({ servers, deadlineMs: DNS_DEADLINE_MS }));
      const findings = await runDoctor({ config, env: process.env, dns, relay, preflight });
      const report: DoctorReport = {
        from: config.from,
        resolver: servers,
        findings,
        errors: findings.filter((f) => f.status === 'error').length,
        warnings: findings.filter((f) => f.status === 'warning').length,
        dnsAnswered: dns.answered() > 0,
      };
      if (opts.json) printJson(report);
      else printText(report);
      if (!report.dnsAnswered) {
        process.stderr.write(`almanac: doctor could not run: no answer to any of ${dns.failed()} DNS queries from ${servers.length ? servers.join(', ') : "the system's resolvers"}\n`);
        process.exitCode = 2;
      } else if (report.errors > 0) {
        process.exitCode = 1;
      }
    });
}

const LABEL: Record<Finding['status'], string> = { ok: 'ok     ', warning: 'warning', error: 'error  ' };

function printText(report: DoctorReport): void {
  const lines = [`Mail from ${terminalText(report.from)}, DNS from ${report.resolver.length ? report.resolver.join(', ') : "the system's resolvers"}:`];
  for (const f of report.findings) {
    // Records and the relay's reply are the zone's and the server's words, whoever wrote them.
    lines.push(`${LABEL[f.status]}  ${f.check.toUpperCase().padEnd(5)}  ${terminalText(f.subject)}: ${terminalText(f.found)}`);
    if (f.publish) lines.push(`${' '.repeat(16)}to fix: ${terminalText(f.publish)}`);
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push('', report.errors || report.warnings ? `${plural(report.errors, 'error')}, ${plural(report.warnings, 'warning')}.` : 'No problems.');
  process.stdout.write(`${lines.join('\n')}\n`);
}
